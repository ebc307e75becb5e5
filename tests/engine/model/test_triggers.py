"""engine.model.triggers: when automations and participant_state schedules fire."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from engine.model.automation import AttributeDateConfig, IntervalConfig, ThresholdConfig, Trigger
from engine.model.triggers import (
    attribute_date,
    interval_problem,
    next_attribute_date,
    next_interval,
    next_run,
    runs_between,
    threshold_met,
    trigger_zone,
)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_trigger_reads_its_own_zone_else_the_program_s():
    assert trigger_zone(Trigger(type="cron", cron_expression="0 9 * * *"), "Europe/Paris") == "Europe/Paris"
    own = Trigger(type="cron", cron_expression="0 9 * * *", timezone="Asia/Tokyo")
    assert trigger_zone(own, "Europe/Paris") == "Asia/Tokyo"


def test_next_run_of_each_trigger_type():
    cron = Trigger(type="cron", cron_expression="0 0 1 * *")
    assert next_run(cron, at(2026, 1, 15), "UTC") == at(2026, 2, 1)
    once = Trigger(type="one_time", trigger_at=at(2026, 6, 1, 9))
    assert next_run(once, at(2026, 1, 1), "UTC") == at(2026, 6, 1, 9)
    assert next_run(once, at(2026, 6, 1, 9), "UTC") is None  # strictly after: made already
    assert next_run(Trigger(type="immediate"), at(2026, 1, 1), "UTC") is None
    assert runs_between(cron, at(2026, 1, 1), at(2026, 4, 1), "UTC") == [at(2026, 2, 1), at(2026, 3, 1), at(2026, 4, 1)]
    assert runs_between(once, at(2026, 1, 1), at(2026, 5, 1), "UTC") == []


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("06-15", (None, 6, 15)),
        ("1990-06-15", (1990, 6, 15)),
        ("1990-06-15T10:00:00Z", (1990, 6, 15)),
        (" 02-29 ", (None, 2, 29)),
        ("2024-02-29", (2024, 2, 29)),
        ("2023-02-29", None),  # not a leap year
        ("02-30", None),
        ("13-01", None),
        ("15/06", None),
        ("", None),
    ],
)
def test_attribute_dates(value, parsed):
    assert attribute_date(value) == parsed


BIRTHDAY = AttributeDateConfig(attribute="birthday", time="09:00")


def test_a_yearly_date_comes_round_at_its_time_on_the_zone_s_clock():
    assert next_attribute_date("06-15", BIRTHDAY, "Europe/London", at(2026, 1, 1)) == at(2026, 6, 15, 8)
    assert next_attribute_date("1990-12-25", BIRTHDAY, "Europe/London", at(2026, 1, 1)) == at(2026, 12, 25, 9)
    # past this year's: next year's
    assert next_attribute_date("06-15", BIRTHDAY, "Europe/London", at(2026, 6, 15, 8)) == at(2027, 6, 15, 8)


def test_29_february_falls_on_28_february_in_other_years():
    config = AttributeDateConfig(attribute="birthday")
    assert next_attribute_date("02-29", config, "UTC", at(2026, 1, 1)) == at(2026, 2, 28)
    assert next_attribute_date("2000-02-29", config, "UTC", at(2027, 3, 1)) == at(2028, 2, 29)


def test_a_once_date_fires_once_and_needs_a_year():
    config = AttributeDateConfig(attribute="renewal", recurrence="once")
    assert next_attribute_date("2026-09-01", config, "UTC", at(2026, 1, 1)) == at(2026, 9, 1)
    assert next_attribute_date("2026-09-01", config, "UTC", at(2026, 9, 1)) is None
    assert next_attribute_date("09-01", config, "UTC", at(2026, 1, 1)) is None
    assert next_attribute_date("soon", BIRTHDAY, "UTC", at(2026, 1, 1)) is None


def test_a_date_at_a_time_dst_skips_fires_at_the_end_of_the_gap_and_a_repeated_one_once():
    night = AttributeDateConfig(attribute="d", time="01:30")
    # London 29 March 2026: 01:00 GMT -> 02:00 BST, so 01:30 is skipped: fires at 02:00 BST
    assert next_attribute_date("03-29", night, "Europe/London", at(2026, 1, 1)) == at(2026, 3, 29, 1)
    # 25 October 2026: 01:30 happens twice; the first is 01:30 BST
    assert next_attribute_date("10-25", night, "Europe/London", at(2026, 1, 1)) == at(2026, 10, 25, 0, 30)


def test_intervals():
    config = IntervalConfig(interval="1440h")
    assert next_interval(config, at(2026, 1, 1)) == at(2026, 3, 2)
    assert interval_problem(config) is None
    assert "positive" in (interval_problem(IntervalConfig(interval="0s")) or "")
    assert interval_problem(IntervalConfig(interval="60 days")) is not None


@pytest.mark.parametrize(
    ("value", "operator", "threshold", "met"),
    [
        (Decimal("10"), ">=", 10, True),
        (Decimal("9.99"), ">=", 10, False),
        (None, ">=", 0, True),  # no counter is 0
        (None, ">", 0, False),
        (Decimal("0.3"), "==", 0.3, True),  # compared as decimals, not doubles
        (Decimal("5"), "<", 10, True),
    ],
)
def test_thresholds(value, operator, threshold, met):
    assert threshold_met(value, ThresholdConfig(counter="visits", threshold=threshold, operator=operator)) is met
