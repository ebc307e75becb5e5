"""Qualification periods of tier lifecycles on the program's clock (D32, A126): when a period
begins and ends, and the calendar arithmetic of status validity and grace.

A CALENDAR_YEAR begins at midnight on January 1 in the program's time zone; a FIXED_YEAR at
midnight on its `start_month`/`start_day`. A period ends when the next one begins.

    >>> tokyo = zone("Asia/Tokyo")
    >>> period_start(CALENDAR_YEAR, datetime(2026, 12, 31, 15, 30, tzinfo=UTC), tokyo)  # 00:30 on Jan 1 in Tokyo
    datetime.datetime(2026, 12, 31, 15, 0, tzinfo=datetime.timezone.utc)
    >>> next_boundary(QualificationPeriod(type="FIXED_YEAR", start_month=4, start_day=1),
    ...               datetime(2026, 5, 1, tzinfo=UTC), UTC)
    datetime.datetime(2027, 4, 1, 0, 0, tzinfo=datetime.timezone.utc)

Times are aware UTC instants in and out; the zone decides where midnight falls.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, tzinfo

from engine.model.lifecycle import QualificationPeriod

CALENDAR_YEAR = QualificationPeriod(type="CALENDAR_YEAR")


def _start_day(period: QualificationPeriod) -> tuple[int, int]:
    """(month, day) on which each of the period's years begins."""
    if period.type == "CALENDAR_YEAR":
        return 1, 1
    if period.type == "FIXED_YEAR" and period.start_month is not None and period.start_day is not None:
        return period.start_month, period.start_day
    raise ValueError(f"a {period.type} qualification period has no period ends")


def _local_midnight(year: int, month: int, day: int, tz: tzinfo) -> datetime:
    return datetime(year, month, day, tzinfo=tz).astimezone(UTC)


def period_start(period: QualificationPeriod, moment: datetime, tz: tzinfo) -> datetime:
    """The instant the period holding `moment` began."""
    month, day = _start_day(period)
    local = moment.astimezone(tz).replace(tzinfo=None)
    year = local.year if (local.month, local.day) >= (month, day) else local.year - 1
    return _local_midnight(year, month, day, tz)


def next_boundary(period: QualificationPeriod, after: datetime, tz: tzinfo) -> datetime:
    """The first period end strictly after `after`: the start of the period that follows the one
    holding `after`."""
    month, day = _start_day(period)
    start = period_start(period, after, tz).astimezone(tz)
    following = _local_midnight(start.year + 1, month, day, tz)
    if following <= after:  # a midnight the zone skipped lands after the instant it names
        following = _local_midnight(start.year + 2, month, day, tz)
    return following


def add_months(moment: datetime, months: int, tz: tzinfo) -> datetime:
    """`months` calendar months after `moment` on the zone's clock, the day clamped to the month's
    last (January 31 + 1 month is February 28, or 29 in a leap year)."""
    local = moment.astimezone(tz).replace(tzinfo=None)
    total = local.month - 1 + months
    year, month = local.year + total // 12, total % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).replace(tzinfo=tz).astimezone(UTC)


def add_days(moment: datetime, days: int, tz: tzinfo) -> datetime:
    """`days` calendar days after `moment` on the zone's clock (a day across a clock change is 23
    or 25 hours long)."""
    local = moment.astimezone(tz).replace(tzinfo=None) + timedelta(days=days)
    return local.replace(tzinfo=tz).astimezone(UTC)
