"""The worker's processing alone: a backlog drained in this process, without the HTTP server
and the queue, with where an event's time goes and what it writes.

    alone = processing_rate(2000)
    print("\n".join(render_processing(alone, best_trivial_per_s)))
"""

from __future__ import annotations

import functools
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine.cli.bench.pipeline import RULES, System, event_bodies, post_all


@dataclass(frozen=True)
class Processing:
    """The drain alone (`processing_rate`): its rate, where an event's time went (microseconds:
    the pipeline's steps, and the claims, commits and the rest of the drain), and the rows an
    event wrote to the three tables that grow with every event."""

    per_s: float
    micros: dict[str, float] = field(default_factory=dict)
    rows: dict[str, float] = field(default_factory=dict)


GROWING_TABLES = ("rule_evaluation", "journal_entry", "posting")


def processing_rate(
    events: int = 2000, rules: int = RULES, *, database_url: str = "", queue_url: str = "sql"
) -> Processing:
    """The worker's own work without the HTTP server and the queue: the same events are posted
    with no worker running, the API is stopped, then this process drains every participant's lane
    in one thread (`drain_lane`, with the worker's background checkpoints), timed alone."""
    from engine.queue import configure_queue, reset_queue
    from engine.store import statements
    from engine.store.checkpoint import start_background_checkpoints
    from engine.store.db import close_all, connect
    from engine.store.lanes import Lane
    from engine.worker.pipeline import Phases, default_pipeline
    from engine.worker.processor import drain_lane

    phases = Phases()
    with tempfile.TemporaryDirectory(prefix="accrual-processing-") as directory:
        with System(Path(directory), rules=rules, database_url=database_url, queue_url=queue_url) as system:
            post_all(system, event_bodies(system, events))
        db = connect(system.database_url)
        checkpointer = start_background_checkpoints(db)
        queue = configure_queue(db, system.queue_url)
        try:
            with db.connection_context():
                lanes = [
                    Lane(organisation_id, external_id, None)
                    for organisation_id, external_id in statements.rows(
                        "SELECT DISTINCT organisation_id, external_id FROM event", [], (str, str)
                    )
                ]
                pipeline = functools.partial(default_pipeline, phases=phases)
                started = time.perf_counter()
                done = sum(drain_lane(lane, queue.settings, pipeline) for lane in lanes)
                elapsed = time.perf_counter() - started
                rows = {
                    table: statements.rows(f"SELECT COUNT(*) FROM {table}", [], (int,))[0][0] / events
                    for table in GROWING_TABLES
                }
        finally:
            if checkpointer is not None:
                checkpointer.stop()
            reset_queue()
            close_all(db)
    if done != events:
        raise RuntimeError(f"{done} of {events} events processed")
    micros = {step: seconds * 1e6 / events for step, seconds in phases.seconds.items()}
    micros["claim and commit"] = elapsed * 1e6 / events - sum(micros.values())
    return Processing(events / elapsed, micros, rows)


def render_processing(alone: Processing, best_trivial_per_s: float | None = None) -> list[str]:
    """The rate (beside the best trivial rate of the pipeline runs, when there were any), the
    microseconds of each step and the rows per event."""
    against = f", {alone.per_s / best_trivial_per_s:.0%} of the best trivial rate" if best_trivial_per_s else ""
    what = "processing alone (a backlog drained in one thread, no HTTP, no queue)"
    lines = [f"{what}: {alone.per_s:.0f} events/s{against}"]
    if alone.micros:
        lines.append("  µs per event: " + ", ".join(f"{step} {micros:.0f}" for step, micros in alone.micros.items()))
        lines.append("  rows written per event: " + ", ".join(f"{table} {n:.1f}" for table, n in alone.rows.items()))
    return lines
