"""Timestamps and durations: parsing, formatting, range checks and arithmetic.

A CEL timestamp is a tz-aware `datetime` (kept in UTC once built here) between
0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999999Z; a duration is a `timedelta` that fits
in a signed 64-bit count of nanoseconds (about +-292 years), as in cel-go and as the CEL
conformance suite expects (`timestamp('9999-12-31T23:59:59Z') - timestamp('0001-01-01T00:00:00Z')`
is a range error). Anything that leaves these ranges raises `DslEvalError(code="DSL_RANGE")`.

Python keeps microseconds, not nanoseconds: parsing truncates sub-microsecond digits toward zero
(`duration("1500ns")` is 1 microsecond, `timestamp("...T00:00:00.123456789Z")` keeps .123456).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dsl.errors import DslEvalError, shown
from dsl.values import type_name

UTC = UTC
TIMESTAMP_MIN = datetime(1, 1, 1, tzinfo=UTC)
TIMESTAMP_MAX = datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
DURATION_NANOS_MIN, DURATION_NANOS_MAX = -(2**63), 2**63 - 1
DURATION_MAX = timedelta(microseconds=DURATION_NANOS_MAX // 1000)  # 106751 days 23:47:16.854775
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PARSE_CACHE_SIZE = 1024
TEXT_MAX = 64  # characters of a timestamp, duration or zone text: longer ones are refused unread

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})",
    re.ASCII,
)
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_NANOS_PER_UNIT = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 MICRO SIGN
    "μs": 1_000,  # U+03BC GREEK SMALL LETTER MU
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_FIXED_OFFSET = re.compile(r"([+-]?)(\d{1,2}):(\d{2})", re.ASCII)


def _range_error(message: str) -> DslEvalError:
    return DslEvalError(message, code="DSL_RANGE")


def _invalid(message: str) -> DslEvalError:
    return DslEvalError(message, code="DSL_INVALID_ARGUMENT")


def check_timestamp(value: datetime) -> datetime:
    """Return `value` in UTC, or raise DSL_RANGE outside years 1..9999 (UTC)."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise _range_error("timestamp out of range (years 0001 to 9999)") from None
    return utc


def check_duration(value: timedelta) -> timedelta:
    if -DURATION_MAX <= value <= DURATION_MAX:
        return value
    raise _range_error(f"duration out of range (at most {format_duration(DURATION_MAX)} either way)")


def parse_timestamp(text: str) -> datetime:
    """Parse an RFC 3339 timestamp. Example: `parse_timestamp("2009-02-13T23:31:30Z")`."""
    if len(text) > TEXT_MAX:  # no timestamp is this long: refuse it before it is scanned or cached
        raise _invalid(f"timestamp {shown(text)} is not RFC 3339 (e.g. '2009-02-13T23:31:30Z')")
    return _parse_timestamp(text)


@lru_cache(maxsize=PARSE_CACHE_SIZE)  # results are immutable; rules parse the same texts again
def _parse_timestamp(text: str) -> datetime:
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise _invalid(f"timestamp {shown(text)} is not RFC 3339 (e.g. '2009-02-13T23:31:30Z')")
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, zone = match.group(7) or "", match.group(8)
    micros = int((fraction + "000000")[:6])
    try:
        offset = UTC if zone == "Z" else _offset_zone(zone)
        local = datetime(year, month, day, hour, minute, second, micros, tzinfo=offset)
    except ValueError as exc:
        raise _invalid(f"timestamp {shown(text)} is not a valid date and time: {exc}") from None
    return check_timestamp(local)


def timestamp_from_seconds(seconds: int) -> datetime:
    """The timestamp `seconds` after 1970-01-01T00:00:00Z. Example: `timestamp_from_seconds(0)`."""
    try:
        return check_timestamp(EPOCH + timedelta(seconds=seconds))
    except OverflowError:
        raise _range_error(f"timestamp of {seconds} seconds since the epoch is out of range") from None


def format_timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with the fraction's trailing zeros dropped, as Go's RFC3339Nano.

    Example: `format_timestamp(parse_timestamp("2009-02-13T23:31:30.500+01:00"))` is
    `"2009-02-13T22:31:30.5Z"`.
    """
    utc = check_timestamp(value)
    text = f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    if utc.microsecond:
        text += "." + f"{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse_duration(text: str) -> timedelta:
    """Parse a Go-style duration: a signed sequence of decimal numbers with units
    (`ns`, `us`, `ms`, `s`, `m`, `h`). Example: `parse_duration("-1h30.5m")`."""
    if len(text) > TEXT_MAX:
        raise _invalid(f"duration {shown(text)} is not valid (e.g. '1h30m', '1.5s', '-2m')")
    body = text[1:] if text[:1] in ("+", "-") else text
    if body == "0":
        return timedelta(0)
    if not body:
        raise _invalid(f"duration {shown(text)} is empty (e.g. '1h30m', '1.5s')")
    nanos, position = 0, 0
    for part in _DURATION_PART.finditer(body):
        if part.start() != position:
            break
        whole, _, decimals = part.group(1).partition(".")
        unit = _NANOS_PER_UNIT[part.group(2)]
        # Integer arithmetic, truncating each fraction to whole nanoseconds as Go does.
        nanos += int(whole or "0") * unit + int(decimals or "0") * unit // 10 ** len(decimals)
        position = part.end()
    if position != len(body):
        raise _invalid(f"duration {shown(text)} is not valid (e.g. '1h30m', '1.5s', '-2m')")
    whole_nanos = -nanos if text.startswith("-") else nanos
    if not DURATION_NANOS_MIN <= whole_nanos <= DURATION_NANOS_MAX:
        raise _range_error(f"duration {shown(text)} is out of range (about 292 years either way)")
    micros = abs(whole_nanos) // 1000
    return timedelta(microseconds=-micros if whole_nanos < 0 else micros)


def format_duration(value: timedelta) -> str:
    """Seconds with the shortest exact fraction and an `s` suffix, as CEL's `string(duration)`.

    Example: `format_duration(timedelta(minutes=1, microseconds=500_000))` is `"60.5s"`.
    """
    micros = total_microseconds(value)
    sign = "-" if micros < 0 else ""
    seconds, fraction = divmod(abs(micros), 1_000_000)
    text = f"{sign}{seconds}"
    if fraction:
        text += "." + f"{fraction:06d}".rstrip("0")
    return text + "s"


def total_microseconds(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds


def add(a: Any, b: Any) -> datetime | timedelta:
    """timestamp + duration, duration + timestamp, duration + duration; DSL_RANGE when the
    result leaves the range. Example: `add(parse_timestamp("2000-01-01T00:00:00Z"), parse_duration("1h"))`."""
    ta, tb = type(a), type(b)
    try:
        if ta is timedelta and tb is timedelta:
            return check_duration(a + b)
        if ta is timedelta and isinstance(b, datetime):
            return check_timestamp(b + a)
        if isinstance(a, datetime) and tb is timedelta:
            return check_timestamp(a + b)
    except OverflowError:
        raise _range_error("timestamp arithmetic left the range of years 0001 to 9999") from None
    raise _no_overload("_+_", a, b)


def subtract(a: Any, b: Any) -> datetime | timedelta:
    """timestamp - duration, timestamp - timestamp (a duration), duration - duration.
    Example: `subtract(t, t)` is `timedelta(0)`."""
    ta, tb = type(a), type(b)
    try:
        if ta is timedelta and tb is timedelta:
            return check_duration(a - b)
        if isinstance(a, datetime) and tb is timedelta:
            return check_timestamp(a - b)
        if isinstance(a, datetime) and isinstance(b, datetime):
            return check_duration(a - b)
    except OverflowError:
        raise _range_error("timestamp arithmetic left the range of years 0001 to 9999") from None
    raise _no_overload("_-_", a, b)


def _no_overload(name: str, a: Any, b: Any) -> DslEvalError:
    return DslEvalError(
        f"no matching overload for '{name}' applied to ({type_name(a)}, {type_name(b)})",
        code="DSL_NO_MATCHING_OVERLOAD",
    )


@lru_cache(maxsize=256)
def resolve_zone(name: str) -> tzinfo:
    """A time zone from an IANA name (`"America/New_York"`, `"UTC"`) or a fixed offset
    (`"+05:30"`, `"-08:00"`, `"02:00"`). Unknown names raise DSL_INVALID_ARGUMENT."""
    if len(name) <= TEXT_MAX and ":" in name:
        return _offset_zone(name)
    zone = _named_zone(name) if len(name) <= TEXT_MAX else None
    if zone is None:
        raise _invalid(f"unknown time zone {shown(name)} (use an IANA name or an offset like '+05:30')")
    return zone


@lru_cache(maxsize=PARSE_CACHE_SIZE)  # an unknown name too: looking for one reads the disk
def _named_zone(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _offset_zone(text: str) -> tzinfo:
    match = _FIXED_OFFSET.fullmatch(text)
    if match is None or int(match.group(2)) > 23 or int(match.group(3)) > 59:
        raise _invalid(f"time zone offset {shown(text)} is not of the form '+05:30' or '-08:00'")
    offset = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
    return timezone(-offset if match.group(1) == "-" else offset)
