from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from engine.model.bundle import Budget
from engine.store.budgets import effective_consumed, next_reset_at, roll_over
from engine.store.errors import LedgerRejected
from engine.store.models import RuleBudget
from tests.engine.world import make_rule

T0 = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)


def test_periods_end_on_the_schedule():
    assert next_reset_at(None, None, None, T0) is None
    assert next_reset_at("INTERVAL", None, "24h", T0) == datetime(2026, 1, 16, 10, 30, tzinfo=UTC)
    assert next_reset_at("CRON", "0 0 1 * *", None, T0) == datetime(2026, 2, 1, tzinfo=UTC)


def test_a_cron_period_more_than_a_year_away_is_found():
    # the next 29 February is two years away: the old minute-by-minute scan gave up after a year
    assert next_reset_at("CRON", "0 0 29 2 *", None, datetime(2026, 3, 1, tzinfo=UTC)) == datetime(
        2028, 2, 29, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("kind", "cron", "interval"),
    [("INTERVAL", None, "-1h"), ("CRON", "* *", None), ("CRON", "99 * * * *", None), ("WEEKLY", None, None)],
)
def test_bad_schedules_are_refused(kind, cron, interval):
    with pytest.raises(LedgerRejected):
        next_reset_at(kind, cron, interval, T0)


def test_roll_over_skips_missed_periods(world):
    rule = make_rule(world, budgets=[Budget(asset_id="PTS", limit="5", schedule_type="INTERVAL", interval="24h")])
    row = RuleBudget.get(RuleBudget.rule == rule.id)
    RuleBudget.update(
        consumed=4, period_started_at=T0, next_reset_at=next_reset_at("INTERVAL", None, "24h", T0)
    ).execute()
    row = RuleBudget.get_by_id(row.id)
    later = datetime(2026, 1, 18, 11, tzinfo=UTC)
    assert effective_consumed(row, T0) == Decimal(4) and effective_consumed(row, later) == 0
    roll_over(row, later)
    stored = RuleBudget.get_by_id(row.id)
    assert stored.consumed == 0 and stored.period_started_at == datetime(2026, 1, 18, 10, 30, tzinfo=UTC)


def test_calendar_periods_end_when_the_next_one_begins_in_the_zone():
    london = "Europe/London"
    # 2026-03-31 22:30 UTC is 23:30 BST on March 31: the month ends at April 1 00:00 BST (23:00 UTC)
    march = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
    assert next_reset_at("CALENDAR", None, None, march, "month", london) == datetime(2026, 3, 31, 23, tzinfo=UTC)
    assert next_reset_at("CALENDAR", None, None, march, "month") == datetime(2026, 4, 1, tzinfo=UTC)
    assert next_reset_at("CALENDAR", None, None, march, "week@Europe/Paris") == datetime(2026, 4, 5, 22, tzinfo=UTC)
    with pytest.raises(LedgerRejected):
        next_reset_at("CALENDAR", None, None, march, None)


def test_a_per_participant_monthly_cap_resets_at_the_month_boundary_of_the_programs_zone(world):
    """At most 10 PTS per participant per calendar month in Europe/London: the cap is each
    participant's own, and a new month begins at midnight in London (23:00 UTC in summer time)."""
    from engine.store.db import write_transaction
    from engine.store.models import EventRecord, ParticipantBudget
    from engine.worker.pipeline import default_pipeline
    from tests.engine.world import store_event

    world.program.timezone = "Europe/London"
    world.program.save()
    cap = Budget(asset_id="PTS", limit="10", per="participant", schedule_type="CALENDAR", period="month")
    make_rule(world, budgets=[cap])

    def credited(person, received: datetime) -> str:
        row = store_event(world, person, created_at=received)
        with write_transaction():
            applied = default_pipeline(EventRecord.get_by_id(row.id))
        return str(applied.result.rules[0].status)

    last_hour_of_march = datetime(2026, 3, 31, 22, 10, tzinfo=UTC)  # 23:10 BST, March 31
    assert credited(world.alice, last_hour_of_march) == "MATCHED"
    assert credited(world.alice, datetime(2026, 3, 31, 22, 50, tzinfo=UTC)) == "BUDGET_EXCEEDED"
    assert credited(world.bob, datetime(2026, 3, 31, 22, 55, tzinfo=UTC)) == "MATCHED"  # bob's own cap
    assert credited(world.alice, datetime(2026, 3, 31, 23, 5, tzinfo=UTC)) == "MATCHED"  # 00:05 BST, April 1
    assert credited(world.alice, datetime(2026, 3, 31, 23, 30, tzinfo=UTC)) == "BUDGET_EXCEEDED"
    [alice] = ParticipantBudget.select().where(ParticipantBudget.participant_id == world.alice.id)
    assert (alice.consumed, alice.period_started_at, alice.next_reset_at) == (
        Decimal(10),
        datetime(2026, 3, 31, 23, tzinfo=UTC),
        datetime(2026, 4, 30, 23, tzinfo=UTC),
    )
    assert RuleBudget.get().consumed == 0  # no program-wide consumption for a per-participant budget
