"""Qualification periods on the program's clock: boundaries in other zones, leap years, month ends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.model.calendar import zone
from engine.model.lifecycle import QualificationPeriod
from engine.model.qualification_periods import CALENDAR_YEAR, add_days, add_months, next_boundary, period_start

APRIL_6 = QualificationPeriod(type="FIXED_YEAR", start_month=4, start_day=6)
TOKYO, NEW_YORK, PARIS = zone("Asia/Tokyo"), zone("America/New_York"), zone("Europe/Paris")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_calendar_year_begins_at_midnight_in_the_program_zone():
    assert period_start(CALENDAR_YEAR, utc(2026, 12, 31, 15, 30), TOKYO) == utc(2026, 12, 31, 15)
    assert period_start(CALENDAR_YEAR, utc(2026, 12, 31, 14, 59), TOKYO) == utc(2025, 12, 31, 15)
    assert next_boundary(CALENDAR_YEAR, utc(2026, 6, 1), NEW_YORK) == utc(2027, 1, 1, 5)
    assert next_boundary(CALENDAR_YEAR, utc(2027, 1, 1, 4, 59), NEW_YORK) == utc(2027, 1, 1, 5)


def test_the_boundary_itself_belongs_to_the_period_it_begins():
    assert period_start(CALENDAR_YEAR, utc(2027, 1, 1), UTC) == utc(2027, 1, 1)
    assert next_boundary(CALENDAR_YEAR, utc(2027, 1, 1), UTC) == utc(2028, 1, 1)


def test_a_fixed_year_begins_on_its_day_and_follows_summer_time():
    assert period_start(APRIL_6, utc(2026, 4, 5, 21), PARIS) == utc(2025, 4, 5, 22)  # 23:00 on April 5 in Paris
    assert period_start(APRIL_6, utc(2026, 4, 5, 22), PARIS) == utc(2026, 4, 5, 22)  # midnight CEST
    assert next_boundary(APRIL_6, utc(2026, 1, 10), PARIS) == utc(2026, 4, 5, 22)
    feb = QualificationPeriod(type="FIXED_YEAR", start_month=2, start_day=1)
    assert next_boundary(feb, utc(2026, 6, 1), PARIS) == utc(2027, 1, 31, 23)  # midnight CET


def test_a_period_without_ends_is_refused():
    with pytest.raises(ValueError, match="no period ends"):
        next_boundary(QualificationPeriod(type="NONE"), utc(2026, 1, 1), UTC)


def test_months_clamp_to_the_end_of_the_month_and_know_leap_years():
    assert add_months(utc(2027, 1, 31), 1, UTC) == utc(2027, 2, 28)
    assert add_months(utc(2028, 1, 31), 1, UTC) == utc(2028, 2, 29)
    assert add_months(utc(2028, 2, 29), 12, UTC) == utc(2029, 2, 28)
    assert add_months(utc(2026, 11, 15), 14, UTC) == utc(2028, 1, 15)
    assert add_months(utc(2026, 12, 31, 15), 2, TOKYO) == utc(2027, 2, 28, 15)  # Jan 1 in Tokyo + 2 months


def test_days_are_calendar_days_across_a_clock_change():
    assert add_days(utc(2026, 3, 28, 23), 1, PARIS) == utc(2026, 3, 29, 22)  # a 23-hour day
    assert add_days(utc(2028, 2, 28), 1, UTC) == utc(2028, 2, 29)
    assert add_days(utc(2027, 2, 28), 1, UTC) == utc(2027, 3, 1)
