"""The lifecycle rules on an injected clock: period ends, downgrades with grace and floors, status
validity, inactivity, expiry, rollover, late sweeps, other time zones and leap years."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from engine.model.bundle import TierType
from engine.model.calendar import zone
from engine.model.tier_lifecycle import (
    Standing,
    drop_target,
    qualifying_level,
    refresh,
    review,
    roll_over,
    roll_over_due,
    rolls_over,
    schedule,
)

TOKYO = zone("Asia/Tokyo")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def tier(lifecycle: dict, *, criteria_mode: str = "ALL") -> TierType:
    def at_least(miles: int) -> dict:
        return {"mode": criteria_mode, "criteria": [{"counter": "miles", "operator": ">=", "threshold": miles}]}

    return msgspec.convert(
        {
            "key": "status",
            "levels": [
                {"key": "blue", "rank": 0},
                {"key": "silver", "rank": 1, "qualification": at_least(25000)},
                {"key": "gold", "rank": 2, "qualification": at_least(50000)},
                {"key": "platinum", "rank": 3, "qualification": at_least(100000)},
            ],
            "lifecycle": lifecycle,
        },
        TierType,
    )


def yearly(policy: dict | None = None, **more) -> TierType:
    block = {"retention": {"mode": "PERIOD_BASED"}, "qualification_period": {"type": "CALENDAR_YEAR"}, **more}
    if policy is not None:
        block["downgrade_policy"] = policy
    return tier(block)


def miles(value: int) -> dict[str, Decimal]:
    return {"miles": Decimal(value)}


def gold_in_2026(t: TierType, tz=UTC) -> Standing:
    return schedule(t, Standing(level="gold", rank=2), utc(2026, 3, 1), tz)


def moves(outcome) -> list[tuple]:
    return [(c.old_level, c.new_level, c.reason, c.at) for c in outcome.changes]


def test_qualification_picks_the_highest_level_met_and_never_a_level_without_criteria():
    t = yearly()
    assert qualifying_level(t, miles(60000)).key == "gold"
    assert qualifying_level(t, miles(100)) is None
    assert qualifying_level(t, {}) is None


@pytest.mark.parametrize(
    ("policy", "counters", "expected"),
    [
        ({}, 30000, "silver"),  # DROP_TO_QUALIFYING by default
        ({}, 0, None),
        ({"mode": "DROP_ONE"}, 0, "silver"),
        ({"mode": "HOLD"}, 0, "gold"),
        ({"min_level": "blue"}, 0, "blue"),
        ({"mode": "DROP_ONE", "min_level": "gold"}, 0, "gold"),
        ({"min_level": "platinum"}, 0, "gold"),  # a floor above the level is no upgrade
    ],
)
def test_the_downgrade_policy_and_its_floor(policy, counters, expected):
    t = yearly(policy)
    target = drop_target(t, Standing(level="gold", rank=2), miles(counters))
    assert (target.key if target else None) == expected


def test_a_level_is_scheduled_for_the_period_end_in_the_program_zone():
    standing = gold_in_2026(yearly(), TOKYO)
    assert standing.period_ends_at == utc(2026, 12, 31, 15)  # midnight on January 1 in Tokyo
    assert standing.due_at == standing.period_ends_at and standing.review_at is None


def test_a_member_who_earns_the_level_again_keeps_it_and_the_counters_roll_over():
    t = yearly(counters={"qualifying": ["miles"], "rollover": "NONE"})
    outcome = review(t, gold_in_2026(t), miles(55000), utc(2027, 1, 1), UTC)
    assert outcome.changes == [] and outcome.standing.level == "gold"
    assert outcome.counters == {"miles": Decimal(0)}
    assert outcome.standing.period_ends_at == utc(2028, 1, 1)


def test_nothing_happens_before_the_period_end():
    t = yearly()
    outcome = review(t, gold_in_2026(t), miles(0), utc(2026, 12, 31, 23, 59), UTC)
    assert outcome.changes == [] and outcome.standing == gold_in_2026(t)


def test_the_period_end_moves_a_member_up_to_what_the_period_earned():
    t = yearly()
    outcome = review(t, gold_in_2026(t), miles(120000), utc(2027, 1, 1), UTC)
    assert moves(outcome) == [("gold", "platinum", "PERIOD_END", utc(2027, 1, 1))]


@pytest.mark.parametrize(
    ("policy", "counters", "new_level"),
    [({}, 30000, "silver"), ({}, 0, None), ({"mode": "DROP_ONE"}, 0, "silver"), ({"min_level": "blue"}, 0, "blue")],
)
def test_without_grace_the_drop_is_at_the_period_end(policy, counters, new_level):
    t = yearly(policy)
    outcome = review(t, gold_in_2026(t), miles(counters), utc(2027, 1, 1), UTC)
    assert moves(outcome) == [("gold", new_level, "PERIOD_END", utc(2027, 1, 1))]
    if new_level is None:
        assert outcome.standing is None
    else:
        assert (outcome.standing.level, outcome.standing.period_ends_at) == (new_level, utc(2028, 1, 1))


def test_hold_keeps_the_level_year_after_year():
    t = yearly({"mode": "HOLD"})
    outcome = review(t, gold_in_2026(t), miles(0), utc(2030, 6, 1), UTC)
    assert outcome.changes == [] and outcome.standing.period_ends_at == utc(2031, 1, 1)


def test_grace_delays_the_drop_and_requalifying_within_it_keeps_the_level():
    t = yearly({"mode": "DROP_ONE", "grace_days": 30}, counters={"qualifying": ["miles"]})
    at_end = review(t, gold_in_2026(t), miles(10000), utc(2027, 1, 1), UTC)
    assert at_end.changes == [] and at_end.standing.level == "gold"
    assert (at_end.standing.review_at, at_end.standing.downgrade_to) == (utc(2027, 1, 31), "silver")
    assert at_end.counters == {"miles": Decimal(0)}
    dropped = review(t, at_end.standing, miles(0), utc(2027, 1, 31), UTC)
    assert moves(dropped) == [("gold", "silver", "PERIOD_END", utc(2027, 1, 31))]
    kept = review(t, at_end.standing, miles(50000), utc(2027, 1, 31), UTC)
    assert kept.changes == [] and kept.standing.level == "gold" and kept.standing.review_at is None


def test_a_drop_lands_no_lower_than_what_the_member_qualifies_for_by_then():
    t = yearly({"grace_days": 10})
    pending = review(t, gold_in_2026(t), miles(0), utc(2027, 1, 1), UTC).standing
    assert pending.downgrade_to is None
    outcome = review(t, pending, miles(30000), utc(2027, 1, 11), UTC)
    assert moves(outcome) == [("gold", "silver", "PERIOD_END", utc(2027, 1, 11))]


def test_status_validity_extends_past_the_period_end_in_calendar_months_and_leap_years():
    t = tier(
        {
            "retention": {"mode": "PERIOD_BASED"},
            "qualification_period": {"type": "FIXED_YEAR", "start_month": 1, "start_day": 31},
            "status_validity": {"extend_months": 1},
            "downgrade_policy": {"grace_days": 1},
        }
    )
    standing = schedule(t, Standing(level="gold", rank=2), utc(2027, 6, 1), UTC)
    assert standing.period_ends_at == utc(2028, 1, 31)
    pending = review(t, standing, miles(0), utc(2028, 1, 31), UTC).standing
    assert pending.review_at == utc(2028, 3, 1)  # January 31 + 1 month = February 29 (2028), + 1 day
    outcome = review(t, pending, miles(0), utc(2028, 3, 1), UTC)
    assert moves(outcome) == [("gold", None, "PERIOD_END", utc(2028, 3, 1))]


def test_a_late_sweep_applies_each_period_end_in_order():
    t = yearly({"mode": "DROP_ONE"})
    outcome = review(t, gold_in_2026(t), miles(0), utc(2029, 2, 1), UTC)
    assert moves(outcome) == [
        ("gold", "silver", "PERIOD_END", utc(2027, 1, 1)),
        ("silver", "blue", "PERIOD_END", utc(2028, 1, 1)),
        ("blue", None, "PERIOD_END", utc(2029, 1, 1)),
    ]
    assert outcome.standing is None


def test_a_period_end_in_another_zone():
    t = yearly({"mode": "DROP_ONE"})
    standing = gold_in_2026(t, TOKYO)
    assert review(t, standing, miles(0), utc(2026, 12, 31, 14, 59), TOKYO).changes == []
    outcome = review(t, standing, miles(0), utc(2026, 12, 31, 15), TOKYO)
    assert moves(outcome) == [("gold", "silver", "PERIOD_END", utc(2026, 12, 31, 15))]
    assert outcome.standing.period_ends_at == utc(2027, 12, 31, 15)


def test_excess_rolls_over_what_exceeded_the_level_earned():
    t = yearly(counters={"qualifying": ["miles", "segments"], "rollover": "EXCESS"})
    assert roll_over(t, {"miles": Decimal(61000), "segments": Decimal(7)}) == {
        "miles": Decimal(11000),  # over gold's 50,000
        "segments": Decimal(0),  # no level has a criterion on it
    }
    assert roll_over(t, miles(20000)) == {"miles": Decimal(0), "segments": Decimal(0)}  # no level earned
    outcome = review(t, gold_in_2026(t), miles(61000), utc(2027, 1, 1), UTC)
    assert outcome.counters == {"miles": Decimal(11000), "segments": Decimal(0)}


def test_the_second_period_is_judged_on_the_rolled_over_counters():
    t = yearly({"mode": "DROP_ONE"}, counters={"qualifying": ["miles"], "rollover": "NONE"})
    outcome = review(t, gold_in_2026(t), miles(60000), utc(2028, 1, 1), UTC)
    assert moves(outcome) == [("gold", "silver", "PERIOD_END", utc(2028, 1, 1))]


def test_an_expiry_removes_the_level_before_anything_later():
    t = yearly()
    base = gold_in_2026(t)
    expiring = Standing(**{**base.__dict__, "expires_at": utc(2026, 6, 1)})
    assert review(t, expiring, miles(0), utc(2026, 5, 31), UTC).changes == []
    outcome = review(t, expiring, miles(0), utc(2027, 6, 1), UTC)
    assert moves(outcome) == [("gold", None, "EXPIRY", utc(2026, 6, 1))]


def test_activity_refresh_waits_for_an_event_and_each_event_starts_the_wait_again():
    t = tier({"retention": {"mode": "ACTIVITY_REFRESH", "duration": "720h"}, "downgrade_policy": {"mode": "DROP_ONE"}})
    standing = schedule(t, Standing(level="gold", rank=2), utc(2026, 1, 1), UTC)
    assert (standing.review_at, standing.period_ends_at) == (utc(2026, 1, 31), None)
    refreshed = refresh(t, standing, utc(2026, 1, 20))
    assert review(t, refreshed, {}, utc(2026, 2, 18), UTC).changes == []
    outcome = review(t, refreshed, {}, utc(2026, 2, 19), UTC)
    assert moves(outcome) == [("gold", "silver", "INACTIVITY", utc(2026, 2, 19))]
    assert outcome.standing.review_at == utc(2026, 3, 21)  # the lower level waits again


def test_an_inactive_member_walks_down_one_level_per_wait_to_the_floor():
    t = tier(
        {
            "retention": {"mode": "ACTIVITY_REFRESH", "duration": "240h"},
            "downgrade_policy": {"mode": "DROP_ONE", "grace_days": 5, "min_level": "silver"},
        }
    )
    standing = schedule(t, Standing(level="platinum", rank=3), utc(2026, 1, 1), UTC)
    outcome = review(t, standing, {}, utc(2026, 12, 1), UTC)
    assert moves(outcome) == [
        ("platinum", "gold", "INACTIVITY", utc(2026, 1, 16)),
        ("gold", "silver", "INACTIVITY", utc(2026, 1, 31)),
    ]
    assert outcome.standing.level == "silver" and outcome.standing.review_at is None


def test_activity_refresh_to_qualifying_lapses_to_what_the_counters_earn_below_the_level():
    t = tier({"retention": {"mode": "ACTIVITY_REFRESH", "duration": "24h"}})
    standing = schedule(t, Standing(level="gold", rank=2), utc(2026, 1, 1), UTC)
    outcome = review(t, standing, miles(90000), utc(2026, 1, 2) + timedelta(seconds=1), UTC)
    assert moves(outcome) == [("gold", "silver", "INACTIVITY", utc(2026, 1, 2))]


def test_a_rules_only_tier_schedules_nothing():
    t = tier({})
    standing = schedule(t, Standing(level="gold", rank=2), utc(2026, 1, 1), UTC)
    assert standing.due_at is None
    assert review(t, standing, {}, utc(2040, 1, 1), UTC).standing == standing


def test_a_changed_lifecycle_drops_what_it_no_longer_runs():
    yearly_tier = yearly({"grace_days": 30})
    pending = review(yearly_tier, gold_in_2026(yearly_tier), miles(0), utc(2027, 1, 1), UTC).standing
    assert pending.pending_drop
    rules_only = tier({})
    outcome = review(rules_only, pending, miles(0), utc(2030, 1, 1), UTC)
    assert outcome.changes == [] and outcome.standing.due_at is None
    refresh_tier = tier({"retention": {"mode": "ACTIVITY_REFRESH", "duration": "24h"}})
    waiting = schedule(refresh_tier, Standing(level="gold", rank=2), utc(2026, 1, 1), UTC)
    outcome = review(yearly_tier, waiting, miles(0), utc(2026, 6, 1), UTC)
    assert outcome.changes == [] and outcome.standing.review_at is None


def test_a_lifecycle_added_later_starts_its_schedule_at_the_review():
    unscheduled = Standing(level="gold", rank=2)
    outcome = review(yearly(), unscheduled, miles(0), utc(2026, 6, 1), TOKYO)
    assert outcome.changes == [] and outcome.standing.period_ends_at == utc(2026, 12, 31, 15)
    refresh_tier = tier({"retention": {"mode": "ACTIVITY_REFRESH", "duration": "24h"}})
    outcome = review(refresh_tier, unscheduled, miles(0), utc(2026, 6, 1), UTC)
    assert outcome.standing.review_at == utc(2026, 6, 2)


def test_a_member_without_a_level_rolls_over_at_each_period_end_due():
    none = yearly(counters={"qualifying": ["miles"], "rollover": "NONE"})
    assert roll_over_due(none, utc(2027, 1, 1), miles(30000), utc(2026, 12, 31), UTC) == ({}, utc(2027, 1, 1))
    assert roll_over_due(none, utc(2027, 1, 1), miles(30000), utc(2027, 1, 1), UTC) == (miles(0), utc(2028, 1, 1))
    excess = yearly(counters={"qualifying": ["miles"], "rollover": "EXCESS"})
    # two ends late: 130,000 keeps 30,000 over platinum, which keeps 5,000 over silver
    assert roll_over_due(excess, utc(2027, 1, 1), miles(130000), utc(2028, 6, 1), UTC) == (miles(5000), utc(2029, 1, 1))
    fixed = tier(
        {
            "qualification_period": {"type": "FIXED_YEAR", "start_month": 4, "start_day": 1},
            "counters": {"qualifying": ["miles"], "rollover": "EXCESS"},
        }
    )
    assert roll_over_due(fixed, utc(2026, 3, 31, 15), miles(60000), utc(2026, 3, 31, 15), TOKYO) == (
        miles(10000),
        utc(2027, 3, 31, 15),
    )


def test_only_an_active_tier_with_periods_and_qualifying_counters_rolls_over():
    rolling = yearly(counters={"qualifying": ["miles"]})
    assert rolls_over(rolling)
    assert not rolls_over(yearly())  # no qualifying counters
    assert not rolls_over(msgspec.structs.replace(rolling, status="ARCHIVED"))
    assert roll_over_due(yearly(), utc(2027, 1, 1), miles(1), utc(2030, 1, 1), UTC) == ({}, None)


def test_a_removed_level_says_which_period_end_its_counters_roll_over_at_next():
    t = yearly({"mode": "DROP_TO_QUALIFYING"}, counters={"qualifying": ["miles"]})
    dropped = review(t, gold_in_2026(t), miles(0), utc(2027, 2, 1), UTC)
    assert (dropped.standing, dropped.period_ends_at) == (None, utc(2028, 1, 1))  # rolled over at 2027's end
    base = gold_in_2026(t)
    at_the_end = Standing(**{**base.__dict__, "expires_at": utc(2027, 1, 1)})
    expired = review(t, at_the_end, miles(60000), utc(2027, 2, 1), UTC)
    assert moves(expired) == [("gold", None, "EXPIRY", utc(2027, 1, 1))]
    assert (expired.counters, expired.period_ends_at) == ({}, utc(2027, 1, 1))  # that end is still owed
    assert review(t, base, miles(60000), utc(2027, 2, 1), UTC).period_ends_at is None  # a level kept
