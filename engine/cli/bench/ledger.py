"""`accrual bench ledger`: events posted per second through `post_event_effects`, beside the raw
rate of one-row insert transactions on the same database in the same run (the floor).

A typical event: one rule matched, one CREDIT, one COUNTER increment, one TAG, on one of 100
participants in turn. Events are stored before the clock starts; only posting is timed. Each
backend runs in a scratch place: a temporary SQLite file, and a throwaway PostgreSQL schema
(`accrual_bench`, dropped afterwards) when a PostgreSQL URL is given.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from engine.model.bundle import Counter, Credit, Rule, Tag
from engine.model.result import EvaluationResult, ResolvedAction, ResolvedTarget, RuleOutcome, RuleStatus
from engine.model.state import EntityState, ProgramState
from engine.model.vocabulary import EventStatus
from engine.store.catalog import create_rule
from engine.store.db import close_all, connect, new_id, write_transaction
from engine.store.effects import post_event_effects
from engine.store.ledger.verify import verify
from engine.store.migrations import upgrade
from engine.store.models import Asset, EventRecord, Organisation, Participant, Program, ProgramAsset
from engine.store.pipelining import open_pipeline

PARTICIPANTS = 100
BENCH_SCHEMA = "accrual_bench"


@dataclass
class Figure:
    backend: str
    events: int
    events_per_second: float
    raw_per_second: float  # transactions of one one-row INSERT
    statements: int  # SQL statements posting one typical event runs
    raw_same_count_per_second: float  # transactions of `statements` one-row INSERTs
    verified: bool
    round_trips: int = 0  # of `statements`: those of a pipelined block count as one

    @property
    def ratio(self) -> float:
        return self.events_per_second / self.raw_per_second


def measure(events: int, postgres_url: str | None = None) -> list[Figure]:
    figures = []
    with tempfile.TemporaryDirectory() as scratch:
        figures.append(_run("sqlite", f"sqlite:///{Path(scratch) / 'bench.db'}", events))
    if postgres_url:
        figures.append(_run_postgres(postgres_url, events))
    return figures


def render(figures: list[Figure]) -> list[str]:
    lines = [
        (
            f"{'database':<10} {'events':>7} {'posted/s':>10} {'raw 1-insert tx/s':>18} {'ratio':>6} "
            f"{'statements':>10} {'round trips':>11} {'raw N-insert tx/s':>18}  verify"
        )
    ]
    for f in figures:
        lines.append(
            f"{f.backend:<10} {f.events:>7} {f.events_per_second:>10,.0f} {f.raw_per_second:>18,.0f} "
            f"{f.ratio:>6.2f} {f.statements:>10} {f.round_trips:>11} {f.raw_same_count_per_second:>18,.0f}  "
            f"{'ok' if f.verified else 'MISMATCH'}"
        )
    lines.append("typical event: 1 CREDIT + 1 COUNTER + 1 TAG, one transaction each; raw: transactions of one")
    lines.append("one-row INSERT, and of as many one-row INSERTs as posting an event runs statements (N); round")
    lines.append("trips: the statements of a pipelined block (PostgreSQL) share one")
    return lines


def _run_postgres(url: str, events: int) -> Figure:
    admin = connect(url)
    with admin.connection_context():
        admin.execute_sql(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE; CREATE SCHEMA {BENCH_SCHEMA}")
    close_all(admin)
    joiner = "&" if "?" in url else "?"
    try:
        return _run("postgresql", f"{url}{joiner}options={quote(f'-csearch_path={BENCH_SCHEMA}')}", events)
    finally:
        admin = connect(url)
        with admin.connection_context():
            admin.execute_sql(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE")
        close_all(admin)


def _run(backend: str, url: str, events: int) -> Figure:
    db = connect(url)
    upgrade(db)
    try:
        with db.connection_context():
            raw = _raw_inserts(db, events)
            event_ids, rule, people = _prepare(events + 1)
            started = time.perf_counter()
            for n, event_id in enumerate(event_ids[:-1]):
                post_event_effects(event_id, _typical_result(rule, people[n % len(people)]))
            elapsed = time.perf_counter() - started
            # Counted on one more event, in the steady state (accounts, counter, tag and head exist).
            last = _typical_result(rule, people[0])  # the event's participant (see _prepare)
            statements, round_trips = _count_statements(db, lambda: post_event_effects(event_ids[-1], last))
            raw_same_count = _raw_inserts(db, max(events // 4, 10), per_transaction=statements)
            verified = verify().ok
    finally:
        close_all(db)
    return Figure(backend, events, events / elapsed, raw, statements, raw_same_count, verified, round_trips)


def _count_statements(db, action) -> tuple[int, int]:
    """How many statements `action` sends (BEGIN and COMMIT count, as in the raw figure), and in
    how many round trips: the statements of one `pipelined` block share one."""
    sent_in: list[int | None] = []  # per statement: the pipelined block it went in (None: alone)
    original, begin = db.execute_sql, db.begin

    def counting(sql, params=None, *args, **kwargs):
        block = open_pipeline()
        sent_in.append(None if block is None else id(block))
        return original(sql, params, *args, **kwargs)

    def counting_begin(*args, **kwargs):
        sent_in.append(None)
        return begin(*args, **kwargs)

    # Instance attributes shadow the methods for this one call. BEGIN and COMMIT go through the
    # driver's cursor, not execute_sql: BEGIN is counted by its own hook, COMMIT added below.
    db.execute_sql, db.begin = counting, counting_begin
    try:
        action()
    finally:
        del db.execute_sql, db.begin
    alone = sent_in.count(None) + 1
    return len(sent_in) + 1, alone + len(set(sent_in) - {None})


def _raw_inserts(db, count: int, per_transaction: int = 1) -> float:
    """Transactions per second, each inserting `per_transaction` rows one statement at a time.
    With more than one, BEGIN and COMMIT count among the statements."""
    db.execute_sql("CREATE TABLE IF NOT EXISTS bench_raw (id VARCHAR(36) PRIMARY KEY, payload TEXT NOT NULL)")
    sql = f"INSERT INTO bench_raw (id, payload) VALUES ({db.param}, {db.param})"
    inserts = max(per_transaction - 2, 1) if per_transaction > 1 else 1
    started = time.perf_counter()
    for _ in range(count):
        with write_transaction(db):
            for _ in range(inserts):
                db.execute_sql(sql, (new_id(), "x"))
    return count / (time.perf_counter() - started)


def _prepare(count: int):
    org = Organisation.create(name=f"bench-{new_id()}")
    program = Program.create(organisation=org, key="bench", name="Bench")
    asset = Asset.create(organisation=org, symbol="PTS", name="Points", scale=2)
    ProgramAsset.create(program=program, asset=asset)
    rule = create_rule(
        org.id,
        program.id,
        Rule(
            name="earn",
            condition="true",
            actions=[Credit(asset_id="PTS", amount="10"), Counter(key="purchases", value=1), Tag(tag="buyer")],
        ),
    )
    people = [Participant.create(organisation=org, external_id=f"p{n}") for n in range(PARTICIPANTS)]
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    # Participants in turn; the last event (the one whose statements are counted) is the first
    # participant's again, so it meets existing accounts, counter and tag however few events ran.
    owners = [people[n % PARTICIPANTS] for n in range(count - 1)] + [people[0]]
    rows = [
        {
            "id": new_id(),
            "organisation": org.id,
            "program": program.id,
            "participant": owners[n].id,
            "idempotency_key": f"e{n}",
            "payload_hash": "0" * 64,
            "event_data": {"type": "purchase"},
            "event_timestamp": moment,
        }
        for n in range(count)
    ]
    with write_transaction():
        for start in range(0, count, 200):
            EventRecord.insert_many(rows[start : start + 200]).execute()
    return [row["id"] for row in rows], rule, people


def _typical_result(rule, person) -> EvaluationResult:
    target = ResolvedTarget(type="PARTICIPANT", role="participant")
    actions = [
        ResolvedAction(
            rule=rule.name,
            index=0,
            type="CREDIT",
            target=target,
            asset="PTS",
            amount=Decimal("10.00"),
            bucket="AVAILABLE",
        ),
        ResolvedAction(rule=rule.name, index=1, type="COUNTER", target=target, key="purchases", value="1"),
        ResolvedAction(rule=rule.name, index=2, type="TAG", target=target, tag="buyer"),
    ]
    outcome = RuleOutcome(
        rule=rule.name,
        order=rule.order,
        status=RuleStatus.MATCHED,
        rule_id=rule.id,
        rule_version=rule.version,
        actions=actions,
    )
    return EvaluationResult(
        status=EventStatus.COMPLETED,
        evaluated_at=datetime(2026, 1, 1, tzinfo=UTC),
        rules=[outcome],
        actions=actions,
        state_changes=[],
        budget_uses=[],
        participant=EntityState(id=person.id),
        program=ProgramState(),
    )
