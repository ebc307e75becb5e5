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
