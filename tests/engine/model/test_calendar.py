"""engine.model.calendar: calendar periods in a time zone, and counters that reset per period."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.model.calendar import (
    parse_period,
    period_end,
    period_problem,
    period_start,
    qualified,
    time_zone_problem,
    zone,
)
from engine.model.state import counter_reset_due

LONDON = zone("Europe/London")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "moment", "start", "end"),
    [
        ("day", at(2026, 7, 1, 23, 30), at(2026, 7, 1, 23), at(2026, 7, 2, 23)),  # BST: days start at 23:00 UTC
        ("week", at(2026, 3, 8, 12), at(2026, 3, 2), at(2026, 3, 9)),  # weeks start on Monday
        ("month", at(2026, 3, 31, 23, 30), at(2026, 3, 31, 23), at(2026, 4, 30, 23)),  # April 1, 00:30 BST
        ("month", at(2026, 12, 15), at(2026, 12, 1), at(2027, 1, 1)),
        ("year", at(2026, 6, 1), at(2026, 1, 1), at(2027, 1, 1)),
    ],
)
def test_periods_in_london(period, moment, start, end):
    assert period_start(period, moment, LONDON) == start
    assert period_end(period, moment, LONDON) == end


def test_period_names_and_zones():
    assert parse_period("month") == ("month", "UTC") and parse_period("720h") is None
    assert parse_period("week@Europe/Paris", "Europe/London") == ("week", "Europe/Paris")
    assert qualified("month", "Europe/London") == "month@Europe/London" and qualified("24h", "Europe/London") == "24h"
    assert period_problem("month@Europe/Londn").endswith("did you mean 'Europe/London'?")
    assert "not a calendar period" in period_problem("fortnight")
    assert time_zone_problem("UTC") is None and time_zone_problem("Mars/Olympus") is not None


def test_a_counter_resets_when_a_new_calendar_month_begins_in_its_zone():
    last = datetime(2026, 3, 1, tzinfo=UTC)
    assert not counter_reset_due("month@Europe/London", last, datetime(2026, 3, 31, 22, 30, tzinfo=UTC))
    assert counter_reset_due("month@Europe/London", last, datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
    assert not counter_reset_due("month", last, datetime(2026, 3, 31, 23, 30, tzinfo=UTC))  # UTC: still March
    assert counter_reset_due("24h", last, datetime(2026, 3, 2, tzinfo=UTC))
