"""Calendar periods in a time zone (D32, D37): a day, an ISO week (from Monday), a month or a year
as the program's clock shows them. Budgets and counters that reset per calendar period ask here
when the period that holds a moment began and when it ends.

    >>> london = zone("Europe/London")
    >>> period_start("month", datetime(2026, 3, 31, 23, 30, tzinfo=UTC), london)
    datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
    >>> period_start("month", datetime(2026, 4, 30, 23, 30, tzinfo=UTC), london)  # 00:30 BST, May 1
    datetime.datetime(2026, 4, 30, 23, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dsl.suggest import nearest

CALENDAR_PERIODS = ("day", "week", "month", "year")


@functools.lru_cache(maxsize=256)
def zone(name: str) -> tzinfo:
    """The IANA zone `name`; `ValueError` for an unknown one."""
    if name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r}") from None


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zone_problem(name: str) -> str | None:
    """None for a valid IANA zone, else what is wrong (with the nearest zone's name)."""
    try:
        zone(name)
    except ValueError:
        hint = nearest(name, _zone_names())
        return f"unknown time zone {name!r} (an IANA name such as 'Europe/London')" + (
            f"; did you mean '{hint}'?" if hint else ""
        )
    return None


def parse_period(text: str | None, default_zone: str = "UTC") -> tuple[str, str] | None:
    """`"month"` -> ("month", default_zone); `"week@Europe/Paris"` -> ("week", "Europe/Paris");
    None for anything else (a Go duration, for instance)."""
    if not text:
        return None
    period, _, zone_name = text.partition("@")
    if period not in CALENDAR_PERIODS:
        return None
    return period, zone_name or default_zone


def period_problem(text: str) -> str | None:
    """None for a valid calendar period (`month`, `month@Europe/London`), else what is wrong."""
    parsed = parse_period(text)
    if parsed is None:
        return f"{text!r} is not a calendar period ({', '.join(CALENDAR_PERIODS)}, optionally @Zone)"
    return time_zone_problem(parsed[1])


def qualified(text: str, default_zone: str) -> str:
    """A calendar period with its zone written out (`month` -> `month@Europe/London`), so the
    value says when it resets wherever it is stored; any other text unchanged."""
    parsed = parse_period(text, default_zone)
    return text if parsed is None else f"{parsed[0]}@{parsed[1]}"


def calendar_reset_due(text: str, last_reset_at: datetime, now: datetime) -> bool:
    """Whether a new calendar period has begun between `last_reset_at` and `now`."""
    parsed = parse_period(text)
    if parsed is None:
        raise ValueError(f"{text!r} is not a calendar period")
    return last_reset_at < period_start(parsed[0], now, zone(parsed[1]))


def period_start(period: str, moment: datetime, tz: tzinfo) -> datetime:
    """The UTC instant at which the calendar `period` holding `moment` began on `tz`'s clock."""
    local = moment.astimezone(tz)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if period == "day":
        start = day
    elif period == "week":
        start = day - timedelta(days=day.weekday())
    elif period == "month":
        start = day.replace(day=1)
    elif period == "year":
        start = day.replace(month=1, day=1)
    else:
        raise ValueError(f"unknown calendar period {period!r} (one of {', '.join(CALENDAR_PERIODS)})")
    return start.replace(tzinfo=tz).astimezone(UTC)


def period_end(period: str, moment: datetime, tz: tzinfo) -> datetime:
    """The UTC instant at which the calendar `period` holding `moment` ends (the next one begins)."""
    start = period_start(period, moment, tz).astimezone(tz).replace(tzinfo=None)
    if period == "day":
        following = start + timedelta(days=1)
    elif period == "week":
        following = start + timedelta(days=7)
    elif period == "month":
        following = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    else:
        following = start.replace(year=start.year + 1)
    return following.replace(tzinfo=tz).astimezone(UTC)
