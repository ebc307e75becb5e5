"""The operator's health figures, read from the database: what `GET /metrics` exposes and
`accrual status` prints (A192).

    vitals(now)   # Vitals: recent events by status, the queue, processing latency, webhooks, rule errors

Every figure is a query, so any process (API or worker) answers the same and nothing has to be
shared between processes. Each reads an index and a bounded window: events of the last hour by
id range (UUIDv7 ids carry their time), the open events through their partial index, webhook
attempts from the hourly counts and the backlog through its partial index, rule errors through
`rule_error_counts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import peewee

from engine.store.db import database_proxy
from engine.store.models import OPEN_EVENTS, EventRecord
from engine.store.models.webhooks import BACKLOG
from engine.store.reports.rollup import count_behind, hour_of, id_floor
from engine.store.rule_health import RuleErrorCount, rule_error_counts

WINDOW = timedelta(hours=1)
LATENCY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass(frozen=True)
class Latency:
    """Receive-to-processed seconds of the window's processed events: cumulative bucket counts."""

    buckets: list[tuple[float, int]] = field(default_factory=list)  # (upper bound, events at or under it)
    count: int = 0
    total_s: float = 0.0


@dataclass(frozen=True)
class Vitals:
    now: datetime
    events_by_status: dict[str, int]  # events received in the last hour, by their status now
    queue_depth: dict[str, int]  # open events (PENDING, PROCESSING) of any age
    oldest_pending_age_s: float | None
    latency: Latency
    webhook_attempts: dict[str, int]  # last 24 hours: success, failure
    webhook_backlog: int  # deliveries PENDING or SENDING
    webhook_circuits_open: int
    rule_errors: list[RuleErrorCount]  # the last hour, rules that errored only
    rollup_behind: int


def _rows(sql: str, params: list[object]) -> list[tuple]:
    mark = database_proxy.obj.param
    return database_proxy.obj.execute_sql(sql.format(p=mark), params).fetchall()


def _seconds_between(start: str, end: str) -> str:
    if isinstance(database_proxy.obj, peewee.SqliteDatabase):
        return f"((julianday({end}) - julianday({start})) * 86400.0)"
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


def _latency(since: str) -> Latency:
    seconds = _seconds_between("created_at", "processed_at")
    sums = ", ".join(f"SUM(CASE WHEN {seconds} <= {bound} THEN 1 ELSE 0 END)" for bound in LATENCY_BUCKETS_S)
    (row,) = _rows(
        f"SELECT COUNT(*), SUM({seconds}), {sums} FROM event WHERE id >= {{p}} AND processed_at IS NOT NULL",
        [since],
    )
    count = int(row[0] or 0)
    buckets = [(bound, int(value or 0)) for bound, value in zip(LATENCY_BUCKETS_S, row[2:], strict=True)]
    return Latency(buckets=buckets, count=count, total_s=float(row[1] or 0.0))


def vitals(now: datetime) -> Vitals:
    since = id_floor(now - WINDOW)
    events = {
        row[0]: int(row[1])
        for row in _rows("SELECT status, COUNT(*) FROM event WHERE id >= {p} GROUP BY status", [since])
    }
    open_rows = _rows(f"SELECT status, COUNT(*), MIN(created_at) FROM event WHERE {OPEN_EVENTS} GROUP BY status", [])
    queue = {row[0]: int(row[1]) for row in open_rows}
    pending_since = [row[2] for row in open_rows if row[0] == "PENDING" and row[2] is not None]
    oldest = _age_s(pending_since[0], now) if pending_since else None
    attempts = _rows(
        "SELECT COALESCE(SUM(successes), 0), COALESCE(SUM(failures), 0) FROM webhook_attempt_hour WHERE hour >= {p}",
        [_db_time(hour_of(now) - timedelta(hours=23))],
    )[0]
    (backlog,) = _rows(f"SELECT COUNT(*) FROM webhook_delivery WHERE {BACKLOG}", [])[0]
    (circuits,) = _rows(
        "SELECT COUNT(*) FROM webhook_endpoint WHERE circuit_broken_until > {p} AND deleted_at IS NULL", [_db_time(now)]
    )[0]
    errored = [count for count in rule_error_counts(since=now - WINDOW, until=now) if count.errored]
    return Vitals(
        now=now,
        events_by_status=events,
        queue_depth=queue,
        oldest_pending_age_s=oldest,
        latency=_latency(since),
        webhook_attempts={"success": int(attempts[0]), "failure": int(attempts[1])},
        webhook_backlog=int(backlog),
        webhook_circuits_open=int(circuits),
        rule_errors=errored,
        rollup_behind=count_behind(),
    )


def _db_time(moment: datetime) -> object:
    return EventRecord.created_at.db_value(moment)


def _age_s(value: object, now: datetime) -> float:
    created = EventRecord.created_at.python_value(value)
    return max((now - created).total_seconds(), 0.0) if created is not None else 0.0
