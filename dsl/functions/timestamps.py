"""`timestamp()`, `duration()` and the calendar accessors (`getFullYear`, `getHours`, ...).

Timestamp accessors read the calendar in UTC, or in the zone given as an argument (an IANA name
or a fixed offset such as "+05:30"). Duration accessors `getHours`, `getMinutes` and `getSeconds`
return whole totals truncated toward zero, as cel-go does: `duration('90m').getHours()` is 1,
`duration('90m').getMinutes()` is 90. `getMilliseconds` returns the millisecond field within the
second (`duration('123.321s').getMilliseconds()` is 321), as the CEL conformance suite requires.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from dsl.errors import shown
from dsl.functions.registry import Function, function, method, no_overload, out_of_range
from dsl.temporal import (
    UTC,
    parse_duration,
    parse_timestamp,
    resolve_zone,
    timestamp_from_seconds,
    total_microseconds,
)


def timestamp(value: Any) -> datetime:
    """`timestamp('2009-02-13T23:31:30Z')`, `timestamp(1234567890)` (seconds since the epoch)."""
    kind = type(value)
    if kind is str:
        return parse_timestamp(value)
    if kind is int:
        return timestamp_from_seconds(value)
    if isinstance(value, datetime):
        return value
    raise no_overload("timestamp", value)


def duration(value: Any) -> timedelta:
    """`duration('1h30m')`, `duration('-1.5s')`."""
    kind = type(value)
    if kind is str:
        return parse_duration(value)
    if kind is timedelta:
        return value
    raise no_overload("duration", value)


def _local(name: str, value: datetime, zone: Any) -> datetime:
    if zone is None:
        return value if value.utcoffset() == timedelta(0) else value.astimezone(UTC)
    if type(zone) is not str:
        raise no_overload(name, value, zone)
    try:
        return value.astimezone(resolve_zone(zone))
    except OverflowError:
        raise out_of_range(f"timestamp in time zone {shown(zone)} is out of range") from None


def _trunc_div(micros: int, unit: int) -> int:
    quotient = abs(micros) // unit
    return -quotient if micros < 0 else quotient


def _millisecond_of_second(micros: int) -> int:
    """The millisecond field of a duration (123.321s gives 321), with the duration's sign."""
    component = (abs(micros) % 1_000_000) // 1000
    return -component if micros < 0 else component


_MICROS_PER = {
    "getHours": 3_600_000_000,
    "getMinutes": 60_000_000,
    "getSeconds": 1_000_000,
    "getMilliseconds": 1_000,
}


def _accessor(name: str, calendar_field: Callable[[datetime], int]) -> Callable[..., int]:
    """One impl per accessor: timestamps read `calendar_field` in a zone, durations (for the four
    time-of-day names) return a truncated total."""
    duration_unit = _MICROS_PER.get(name)

    def access(value: Any, zone: Any = None) -> int:
        if isinstance(value, datetime):
            return calendar_field(_local(name, value, zone))
        if type(value) is timedelta and duration_unit is not None and zone is None:
            micros = total_microseconds(value)
            if name == "getMilliseconds":
                return _millisecond_of_second(micros)
            return _trunc_div(micros, duration_unit)
        raise no_overload(name, value) if zone is None else no_overload(name, value, zone)

    access.__name__ = name
    access.__doc__ = f"`t.{name}()` / `t.{name}('Europe/Paris')`."
    return access


_CALENDAR_FIELDS: dict[str, Callable[[datetime], int]] = {
    "getFullYear": lambda t: t.year,
    "getMonth": lambda t: t.month - 1,
    "getDate": lambda t: t.day,
    "getDayOfMonth": lambda t: t.day - 1,
    "getDayOfWeek": lambda t: t.isoweekday() % 7,
    "getDayOfYear": lambda t: t.timetuple().tm_yday - 1,
    "getHours": lambda t: t.hour,
    "getMinutes": lambda t: t.minute,
    "getSeconds": lambda t: t.second,
    "getMilliseconds": lambda t: t.microsecond // 1000,
}

ACCESSORS: dict[str, Callable[..., int]] = {name: _accessor(name, field) for name, field in _CALENDAR_FIELDS.items()}

FUNCTIONS: tuple[Function, ...] = (
    function("timestamp", timestamp, 1, cost=15),
    function("duration", duration, 1, cost=10),
    *(method(name, impl, 0, 1, cost=10) for name, impl in ACCESSORS.items()),
)
