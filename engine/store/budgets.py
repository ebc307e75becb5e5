"""Budget periods (D21, D37): lifetime, INTERVAL (a Go duration), CRON (five fields read in UTC,
A14; `engine.model.cron` computes the next boundary) or
CALENDAR (a day, week, month or year in the program's time zone, D32).

A budget row stores `consumed` for the period that started at `period_started_at` and ends at
`next_reset_at` (null: never). A period that has ended counts as empty; `roll_over` writes the
reset (inside the caller's transaction) before new consumption is added. A `per: participant`
budget keeps one `ParticipantBudget` row per participant with the same three columns: a
participant's first credit under it opens the period that holds the event (`consume_for_participant`).

    >>> next_reset_at("INTERVAL", None, "720h", datetime(2026, 1, 1, tzinfo=UTC))
    datetime.datetime(2026, 1, 31, 0, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.model.calendar import parse_period, period_end, period_start, zone
from engine.model.cron import cron_problem, next_fire
from engine.model.durations import parse_duration
from engine.model.result import BudgetUse
from engine.store.errors import Conflict, LedgerRejected
from engine.store.ledger.accounts import lock
from engine.store.models import EventRecord, ParticipantBudget, Program, RuleBudget


def next_reset_at(
    schedule_type: str | None,
    cron_expression: str | None,
    interval: str | None,
    start: datetime,
    period: str | None = None,
    timezone: str = "UTC",
) -> datetime | None:
    """When a period that starts at `start` ends (a CALENDAR one: when the next day, week, month
    or year begins in `timezone`, or the zone the period names)."""
    if schedule_type is None:
        return None
    if schedule_type == "CALENDAR":
        parsed = parse_period(period, timezone)
        if parsed is None:
            raise LedgerRejected(f"a CALENDAR budget needs a period, got {period!r}", code="bad_request")
        return period_end(parsed[0], start, zone(parsed[1]))
    if schedule_type == "INTERVAL":
        step = parse_duration(interval or "")
        if step <= timedelta(0):
            raise LedgerRejected(f"budget interval must be positive, got {interval!r}", code="bad_request")
        return start + step
    if schedule_type == "CRON":
        return _next_cron(cron_expression or "", start)
    raise LedgerRejected(f"unknown budget schedule_type {schedule_type!r}", code="bad_request")


def _next_cron(expression: str, after: datetime) -> datetime:
    problem = cron_problem(expression)
    if problem is not None:
        raise LedgerRejected(problem, code="bad_request")
    moment = next_fire(expression, after, "UTC")
    if moment is None:
        raise LedgerRejected(f"cron_expression {expression!r} never fires again", code="bad_request")
    return moment


def effective_consumed(row: RuleBudget | ParticipantBudget, at: datetime) -> Decimal:
    """What the budget has consumed in the period that contains `at`."""
    if row.next_reset_at is not None and at >= row.next_reset_at:
        return Decimal(0)
    return row.consumed


def _next(budget: RuleBudget, start: datetime, timezone: str) -> datetime | None:
    return next_reset_at(budget.schedule_type, budget.cron_expression, budget.interval, start, budget.period, timezone)


def _period_holding(
    budget: RuleBudget, start: datetime, at: datetime, timezone: str
) -> tuple[datetime, datetime | None]:
    """The period of `budget` that holds `at`, counting from a period that began at `start`;
    periods missed entirely are skipped."""
    if budget.schedule_type == "CALENDAR":
        parsed = parse_period(budget.period, timezone) or ("day", timezone)
        tz = zone(parsed[1])
        return period_start(parsed[0], at, tz), period_end(parsed[0], at, tz)
    end = _next(budget, start, timezone)
    while end is not None and end <= at:
        start, end = end, _next(budget, end, timezone)
    return start, end


def roll_over(row: RuleBudget, at: datetime, timezone: str = "UTC") -> None:
    """Start a new period if the stored one has ended by `at` (updates `row` in memory and in the
    database); periods missed entirely are skipped."""
    if row.next_reset_at is None or at < row.next_reset_at:
        return
    start, end = _period_holding(row, row.next_reset_at, at, timezone)
    row.consumed, row.period_started_at, row.next_reset_at = Decimal(0), start, end
    RuleBudget.update(consumed=0, period_started_at=start, next_reset_at=end).where(RuleBudget.id == row.id).execute()


def consume_for_participant(
    budget: RuleBudget, participant_id: str, amount: Decimal, at: datetime, timezone: str
) -> bool:
    """Add `amount` to what `participant_id` consumed of a `per: participant` budget in the period
    holding `at`; False (and nothing written) when it no longer fits. The participant's events run
    one at a time (D15), so its row needs no lock of its own."""
    found = ParticipantBudget.get_or_none(
        (ParticipantBudget.budget == budget.id) & (ParticipantBudget.participant_id == participant_id)
    )
    if found is None:
        start, end = _period_holding(budget, at, at, timezone)
        if budget.schedule_type is None:
            start, end = at, None
        found = ParticipantBudget.create(
            budget=budget.id, participant_id=participant_id, consumed=0, period_started_at=start, next_reset_at=end
        )
    elif found.next_reset_at is not None and at >= found.next_reset_at:
        start, end = _period_holding(budget, found.next_reset_at, at, timezone)
        found.consumed, found.period_started_at, found.next_reset_at = Decimal(0), start, end
    if found.consumed + amount > budget.limit:
        return False
    ParticipantBudget.update(
        consumed=found.consumed + amount, period_started_at=found.period_started_at, next_reset_at=found.next_reset_at
    ).where(ParticipantBudget.id == found.id).execute()
    return True


def consume_budgets(
    uses: Iterable[BudgetUse], rule_ids: Callable[[str], tuple[str | None, Any]], event: EventRecord, program_id: str
) -> None:
    """Add an event's credits to its rules' budgets, refusing what no longer fits (D21): the
    program-wide ones under their row locks, the `per: participant` ones of the event's
    participant (D37). Periods are judged at the event's receive time (A14). `rule_ids` gives a
    rule name's id in this evaluation (None: not a stored rule)."""
    timezone = None
    for use in uses:
        rule_id, _ = rule_ids(use.rule)
        if rule_id is None:
            continue
        found = RuleBudget.select().where(
            (RuleBudget.rule == rule_id) & (RuleBudget.asset_symbol == use.asset) & (RuleBudget.per == use.per)
        )
        row = (found if use.per == "participant" else lock(found)).first()
        if row is None:
            continue
        if timezone is None:
            timezone = Program.select(Program.timezone).where(Program.id == program_id).scalar() or "UTC"
        if use.per == "participant":
            if not consume_for_participant(row, event.participant_id or "", use.amount, event.created_at, timezone):
                raise Conflict(
                    f"budget of rule {use.rule!r} for {use.asset} per participant is used up; retry",
                    code="budget_conflict",
                    rule=use.rule,
                    asset=use.asset,
                )
            continue
        roll_over(row, event.created_at, timezone)
        if row.consumed + use.amount > row.limit:
            raise Conflict(
                f"budget of rule {use.rule!r} for {use.asset} was used up by another event; retry",
                code="budget_conflict",
                rule=use.rule,
                asset=use.asset,
            )
        RuleBudget.update(consumed=row.consumed + use.amount).where(RuleBudget.id == row.id).execute()
