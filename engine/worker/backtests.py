"""Backtests run against storage: one window's history read in one read-only snapshot and
replayed under both rulesets (`replay_history`, what `accrual backtest` runs), and the queue's
`run_backtest` task, which runs a backtest asked for through the API and records its progress
and its difference on its row (A164).

    window, difference = replay_history(db, program_id, candidate, start=t0, progress=report)
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType

from peewee import Database

from engine.errors import EngineError
from engine.model.history import Window
from engine.queue import Queue, connection
from engine.replay.backtest import SAMPLE, run_backtest
from engine.replay.difference import Difference, difference_document
from engine.rules.loader import load_bundle_text
from engine.rules.program import CompiledProgram
from engine.store.backtests import claim_backtest, fail_backtest, finish_backtest, record_progress
from engine.store.history.source import open_history, snapshot

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 0.5  # how often a running backtest's row shows how far it has come
Progress = Callable[[int, int], None]  # (events replayed, events in the window)


def replay_history(
    db: Database,
    program_id: str,
    candidate: CompiledProgram,
    against: CompiledProgram | None = None,
    *,
    organisation_id: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    last: int | None = None,
    sample: int = SAMPLE,
    progress: Progress | None = None,
) -> tuple[Window, Difference]:
    """The difference `candidate` makes to the program's history over the window, against
    `against` (default: the program as applied). Reads one snapshot, writes nothing (D36)."""
    with _heap_frozen(), db.atomic() as reading:
        snapshot(db)
        source = open_history(program_id, organisation_id=organisation_id, start=start, end=end, last=last)
        done = 0
        if progress is not None:
            progress(0, source.total)

        def step(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(done, source.total)

        difference = run_backtest(
            against or source.baseline,
            candidate,
            source.history(),
            seed=source.starts.participant,
            program_state=source.starts.program(),
            tracked=source.tracked,
            progress=step,
            sample=sample,
        )
        reading.rollback()  # nothing was written: end the read without a commit
    return source.window, difference


@contextmanager
def _heap_frozen() -> Iterator[None]:
    """The objects alive before a replay (modules, compiled programs, caches) left out of the
    collector while it runs. A replay makes many objects that live a page long; they start the
    collector's full passes, whose cost is the whole heap's: about a seventh of a replay's time
    otherwise. Nothing frozen is lost: `unfreeze` hands it all back to the collector."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def compiled(text: str, label: str) -> CompiledProgram:
    """A bundle's YAML compiled; `invalid_bundle` with its first problem when it does not load."""
    loaded = load_bundle_text(text, filename=label)
    if loaded.program is None:
        first = next((p for p in loaded.problems if p.severity == "error"), None)
        where = first.format() if first is not None else label
        raise EngineError(f"the {label} bundle has errors: {where}", code="invalid_bundle")
    return loaded.program


class _ProgressWriter:
    """Writes a run's progress to its row from a thread of its own (its own connection), so the
    replay's read-only snapshot is never interrupted by a write; the writes are its heartbeat."""

    def __init__(self, db: Database, backtest_id: str) -> None:
        self.db, self.backtest_id = db, backtest_id
        self.done, self.total = 0, 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"backtest-{backtest_id}", daemon=True)

    def update(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def __enter__(self) -> _ProgressWriter:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stopped.set()
        self.thread.join()

    def _run(self) -> None:
        # written at every interval, changed or not: the row's `updated_at` is the run's heartbeat
        with self.db.connection_context():
            while not self.stopped.wait(PROGRESS_INTERVAL_S):
                record_progress(self.backtest_id, done=self.done, total=self.total or None)


def run_backtest_task(queue: Queue, backtest_id: str) -> None:
    """The `run_backtest` task: claim the run, replay, record the difference, or the failure."""
    with connection(queue.database):
        run = claim_backtest(backtest_id)
        if run is None:
            return
        try:
            candidate = compiled(run.candidate, "candidate")
            against = compiled(run.against, "baseline") if run.against is not None else None
            with _ProgressWriter(queue.database, backtest_id) as writer:
                window, difference = replay_history(
                    queue.database,
                    run.program_id,
                    candidate,
                    against,
                    organisation_id=run.organisation_id,
                    start=run.window_from,
                    end=run.window_to,
                    last=run.last,
                    sample=run.sample,
                    progress=writer.update,
                )
            finish_backtest(backtest_id, difference_document(window, difference), done=writer.done, total=writer.total)
        except EngineError as exc:
            fail_backtest(backtest_id, exc.code, exc.message)
        except Exception as exc:  # a bug: the run ends FAILED, visible, and the error is logged
            log.exception("backtest %s failed", backtest_id)
            fail_backtest(backtest_id, "backtest_error", f"{type(exc).__name__}: {exc}")
