"""Budget periods (D21): lifetime, INTERVAL (a Go duration) or CRON (five fields, UTC).

A budget row stores `consumed` for the period that started at `period_started_at` and ends at
`next_reset_at` (null: never). A period that has ended counts as empty; `roll_over` writes the
reset (inside the caller's transaction) before new consumption is added.

    >>> next_reset_at("INTERVAL", None, "720h", datetime(2026, 1, 1, tzinfo=UTC))
    datetime.datetime(2026, 1, 31, 0, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from huey import crontab

from engine.model.durations import parse_duration
from engine.store.errors import LedgerRejected
from engine.store.models import RuleBudget

CRON_HORIZON = timedelta(days=366)  # the search for the next CRON boundary stops here


def next_reset_at(
    schedule_type: str | None, cron_expression: str | None, interval: str | None, start: datetime
) -> datetime | None:
    """When a period that starts at `start` ends."""
    if schedule_type is None:
        return None
    if schedule_type == "INTERVAL":
        step = parse_duration(interval or "")
        if step <= timedelta(0):
            raise LedgerRejected(f"budget interval must be positive, got {interval!r}", code="bad_request")
        return start + step
    if schedule_type == "CRON":
        return _next_cron(cron_expression or "", start)
    raise LedgerRejected(f"unknown budget schedule_type {schedule_type!r}", code="bad_request")


def _next_cron(expression: str, after: datetime) -> datetime:
    fields = expression.split()
    if len(fields) != 5:
        raise LedgerRejected(f"cron_expression needs five fields, got {expression!r}", code="bad_request")
    try:
        matches = crontab(*fields)
    except ValueError as exc:
        raise LedgerRejected(f"invalid cron_expression {expression!r}: {exc}", code="bad_request") from exc
    moment = after.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    limit = after + CRON_HORIZON
    while moment <= limit:
        if matches(moment.replace(tzinfo=None)):
            return moment
        moment += timedelta(minutes=1)
    raise LedgerRejected(f"cron_expression {expression!r} never fires within a year", code="bad_request")


def effective_consumed(row: RuleBudget, at: datetime) -> Decimal:
    """What the budget has consumed in the period that contains `at`."""
    if row.next_reset_at is not None and at >= row.next_reset_at:
        return Decimal(0)
    return row.consumed


def roll_over(row: RuleBudget, at: datetime) -> None:
    """Start a new period if the stored one has ended by `at` (updates `row` in memory and in the
    database); periods missed entirely are skipped."""
    if row.next_reset_at is None or at < row.next_reset_at:
        return
    start = row.next_reset_at
    end = next_reset_at(row.schedule_type, row.cron_expression, row.interval, start)
    while end is not None and end <= at:
        start, end = end, next_reset_at(row.schedule_type, row.cron_expression, row.interval, end)
    row.consumed, row.period_started_at, row.next_reset_at = Decimal(0), start, end
    RuleBudget.update(consumed=0, period_started_at=start, next_reset_at=end).where(RuleBudget.id == row.id).execute()
