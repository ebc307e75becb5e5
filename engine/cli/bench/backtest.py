"""`accrual bench backtest`: events replayed per second by a backtest of the 10-rule benchmark
program (`engine/cli/bench/engine.py`), beside the pure evaluator's rate on the same events in the
same run.

    >>> print("\\n".join(render(measure(events=2000))))

The history is recorded the real way first: the program's rules stored, 50 participants shaped as
`accrual bench engine`'s (a vip from DE with 12 visits), each event ingested and processed by the
worker's task body (the in-process queue). The backtest then
runs as `accrual backtest` does (`replay_history`: one read-only snapshot, the starts, the events
and the changes around them read page by page, every event evaluated under the baseline and under
the candidate, the difference), with a candidate that doubles the purchase points. The reference
evaluates the same events once each with `evaluate_event`, for `accrual bench engine`'s
participant. A replay evaluates every event twice, so its rate is at most half the reference's.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import msgspec

from engine.cli.bench.engine import build_bundle, sample_events, sample_participant
from engine.evaluator.evaluate import evaluate_event
from engine.model.bundle import Bundle
from engine.model.state import EvaluationInput
from engine.queue import configure_queue, enqueue_event, reset_queue
from engine.rules.program import CompiledProgram, compile_program
from engine.store.catalog import create_rule
from engine.store.db import close_all, connect, utcnow, write_transaction
from engine.store.migrations import upgrade
from engine.store.models import PARTICIPANT, Asset, EventRecord, Organisation, Participant, Program, ProgramAsset
from engine.store.owner_state import Origin, add_tag, set_attribute, set_counter
from engine.worker.backtests import replay_history
from engine.worker.tasks import register_task_bodies

RULES = 10
PARTICIPANTS = 50


@dataclass(frozen=True)
class Figure:
    events: int
    record_s: float  # ingesting and processing the history
    replay_s: float
    pure_s: float  # evaluate_event once per event
    reproduced: bool
    changed_events: int

    @property
    def replayed_per_second(self) -> float:
        return self.events / self.replay_s

    @property
    def evaluated_per_second(self) -> float:
        return self.events / self.pure_s

    @property
    def ratio(self) -> float:
        return self.replayed_per_second / self.evaluated_per_second


def candidate_program() -> CompiledProgram:
    """The benchmark program with the purchase points doubled."""
    data = msgspec.to_builtins(build_bundle(RULES))
    data["rules"][0]["actions"][0]["amount"] = "event.amount * 20.0"
    return compile_program(msgspec.convert(data, Bundle))


def record_history(database_url: str, events: int) -> str:
    """The benchmark program's history of `events` events, processed by the worker's task body;
    returns the program's id."""
    db = connect(database_url)
    upgrade(db)
    register_task_bodies()
    configure_queue(db, "memory://")
    try:
        with db.connection_context():
            with write_transaction():
                org = Organisation.create(name="bench")
                program = Program.create(organisation=org, key="bench", name="Benchmark")
                asset = Asset.create(organisation=org, symbol="PTS", name="Points", scale=0)
                ProgramAsset.create(program=program, asset=asset)
            for rule in build_bundle(RULES).rules:
                create_rule(org.id, program.id, rule)
            with write_transaction():
                for number in range(PARTICIPANTS):
                    _member(org.id, f"member-{number}")
            for number, event in enumerate(sample_events(events)):
                with write_transaction():
                    row = EventRecord.create(
                        organisation=org,
                        program=program,
                        external_id=f"member-{number % PARTICIPANTS}",
                        idempotency_key=f"bench-{number}",
                        payload_hash=f"{number:064d}",
                        event_data=event.event_data,
                        event_timestamp=event.event_timestamp,
                        created_at=utcnow(),
                        updated_at=utcnow(),
                    )
                    enqueue_event(row.id)  # the in-process queue runs it once this commits
        return program.id
    finally:
        reset_queue()
        close_all(db)


def _member(organisation_id: str, external_id: str) -> None:
    """A participant shaped as `accrual bench engine`'s: a vip from DE with 12 visits."""
    person = Participant.create(organisation=organisation_id, external_id=external_id)
    add_tag(organisation_id, PARTICIPANT, person.id, "vip", Origin())
    set_attribute(organisation_id, PARTICIPANT, person.id, "country", "DE", Origin())
    set_counter(organisation_id, PARTICIPANT, person.id, "visits", Decimal(12), Origin())


def _pure_seconds(program: CompiledProgram, events: int) -> float:
    """evaluate_event once per event, for `accrual bench engine`'s participant."""
    sample, participant = sample_events(events), sample_participant()
    started = time.perf_counter()
    for event in sample:
        evaluate_event(program, EvaluationInput(event=event, participant=participant))
    return time.perf_counter() - started


def measure(events: int = 2000, directory: Path | None = None, repeats: int = 3) -> Figure:
    """Record `events`, then time the backtest and the pure evaluation of the same events, each
    the best of `repeats` runs, taken in turn (the machine's other load touches both alike)."""
    reference = compile_program(build_bundle(RULES))
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        url = f"sqlite:///{Path(scratch) / 'backtest.db'}"
        started = time.perf_counter()
        program_id = record_history(url, events)
        recorded = time.perf_counter() - started
        candidate = candidate_program()
        db = connect(url)
        replayed = pure = float("inf")
        try:
            with db.connection_context():
                for _ in range(repeats):
                    started = time.perf_counter()
                    _, difference = replay_history(db, program_id, candidate, end=utcnow() + timedelta(seconds=1))
                    replayed = min(replayed, time.perf_counter() - started)
                    pure = min(pure, _pure_seconds(reference, events))
        finally:
            close_all(db)
    return Figure(
        events=difference.events,
        record_s=recorded,
        replay_s=replayed,
        pure_s=pure,
        reproduced=difference.reproduced,
        changed_events=difference.changed_events,
    )


def render(figure: Figure) -> list[str]:
    header = (
        f"{'events':>7} {'record s':>9} {'replay s':>9} {'replayed/s':>11} {'evaluate_event/s':>17} "
        f"{'ratio':>6} {'reproduced':>11} {'changed':>8}"
    )
    row = (
        f"{figure.events:>7} {figure.record_s:>9.1f} {figure.replay_s:>9.2f} {figure.replayed_per_second:>11,.0f} "
        f"{figure.evaluated_per_second:>17,.0f} {figure.ratio:>6.2f} {'yes' if figure.reproduced else 'NO':>11} "
        f"{figure.changed_events:>8}"
    )
    return [header, row]
