from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.errors import DslEvalError
from dsl.temporal import (
    DURATION_MAX,
    TIMESTAMP_MAX,
    TIMESTAMP_MIN,
    add,
    format_duration,
    format_timestamp,
    parse_duration,
    parse_timestamp,
    resolve_zone,
    subtract,
    timestamp_from_seconds,
)

UTC = UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2009-02-13T23:31:30Z", datetime(2009, 2, 13, 23, 31, 30, tzinfo=UTC)),
        ("2009-02-13T23:31:30.5+01:00", datetime(2009, 2, 13, 22, 31, 30, 500_000, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", TIMESTAMP_MIN),
        ("9999-12-31T23:59:59.999999999Z", TIMESTAMP_MAX),
    ],
)
def test_parse_timestamp_normalises_to_utc_and_truncates_nanoseconds(text, expected):
    parsed = parse_timestamp(text)
    assert parsed == expected and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2009-02-13 23:31:30Z", "DSL_INVALID_ARGUMENT"),
        ("2009-02-13T23:31:30", "DSL_INVALID_ARGUMENT"),
        ("2009-02-30T00:00:00Z", "DSL_INVALID_ARGUMENT"),
        ("2009-02-13T23:31:60Z", "DSL_INVALID_ARGUMENT"),
        ("2009-02-13T23:31:30+24:00", "DSL_INVALID_ARGUMENT"),
        ("0001-01-01T00:00:00+01:00", "DSL_RANGE"),
        ("9999-12-31T23:59:59-01:00", "DSL_RANGE"),
    ],
)
def test_parse_timestamp_errors(text, code):
    with pytest.raises(DslEvalError) as err:
        parse_timestamp(text)
    assert err.value.code == code


def test_format_timestamp_trims_the_fraction_like_rfc3339nano():
    assert format_timestamp(parse_timestamp("2009-02-13T23:31:30.500+01:00")) == "2009-02-13T22:31:30.5Z"
    assert format_timestamp(TIMESTAMP_MIN) == "0001-01-01T00:00:00Z"


def test_timestamp_from_seconds_bounds():
    assert timestamp_from_seconds(1_000_000_000) == datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC)
    assert timestamp_from_seconds(-62135596800) == TIMESTAMP_MIN
    for seconds in (-62135596801, 253402300800, 10**20):
        with pytest.raises(DslEvalError) as err:
            timestamp_from_seconds(seconds)
        assert err.value.code == "DSL_RANGE"


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("1h30m", 5_400_000_000),
        ("1.5s", 1_500_000),
        ("-2m", -120_000_000),
        ("0", 0),
        ("-0", 0),
        ("+3s", 3_000_000),
        ("1ms", 1000),
        ("1us", 1),
        ("1µs", 1),
        ("1μs", 1),
        ("1500ns", 1),
        ("-1999ns", -1),
        (".5s", 500_000),
        ("1.s", 1_000_000),
        ("1h0.5m", 3_630_000_000),
        ("9223372036.854775807s", 9_223_372_036_854_775),
        ("-9223372036.854775808s", -9_223_372_036_854_775),
        ("2562047h", 2562047 * 3_600_000_000),
    ],
)
def test_parse_duration(text, micros):
    assert parse_duration(text) == timedelta(microseconds=micros)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "DSL_INVALID_ARGUMENT"),
        ("1", "DSL_INVALID_ARGUMENT"),
        ("s", "DSL_INVALID_ARGUMENT"),
        ("1d", "DSL_INVALID_ARGUMENT"),
        ("1h 2m", "DSL_INVALID_ARGUMENT"),
        ("--1s", "DSL_INVALID_ARGUMENT"),
        (".s", "DSL_INVALID_ARGUMENT"),
        ("٣s", "DSL_INVALID_ARGUMENT"),
        ("9223372036.854775808s", "DSL_RANGE"),
        ("-9223372036.854775809s", "DSL_RANGE"),
        ("320000000000s", "DSL_RANGE"),
        ("2562048h", "DSL_RANGE"),
        ("-3000000000000000h", "DSL_RANGE"),
    ],
)
def test_parse_duration_errors(text, code):
    with pytest.raises(DslEvalError) as err:
        parse_duration(text)
    assert err.value.code == code


@pytest.mark.parametrize(
    ("micros", "text"),
    [(0, "0s"), (1_500_000, "1.5s"), (-120_000_000, "-120s"), (1, "0.000001s"), (-500_000, "-0.5s")],
)
def test_format_duration(micros, text):
    assert format_duration(timedelta(microseconds=micros)) == text


@settings(max_examples=150, deadline=None)
@given(st.integers(-9_223_372_036_854_775, 9_223_372_036_854_775))
def test_duration_format_parse_round_trip(micros):
    value = timedelta(microseconds=micros)
    assert parse_duration(format_duration(value)) == value


@settings(max_examples=150, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999)))
def test_timestamp_format_parse_round_trip(naive):
    value = naive.replace(tzinfo=UTC)
    assert parse_timestamp(format_timestamp(value)) == value


def test_add_and_subtract_cover_the_temporal_overloads():
    t = parse_timestamp("2000-01-01T00:00:00Z")
    hour = parse_duration("1h")
    assert add(t, hour) == add(hour, t) == parse_timestamp("2000-01-01T01:00:00Z")
    assert add(hour, hour) == parse_duration("2h")
    assert subtract(t, hour) == parse_timestamp("1999-12-31T23:00:00Z")
    assert subtract(add(t, hour), t) == hour
    assert subtract(hour, hour) == timedelta(0)


@pytest.mark.parametrize(
    ("operation", "a", "b"),
    [
        (add, TIMESTAMP_MAX, timedelta(microseconds=1)),
        (subtract, TIMESTAMP_MIN, timedelta(microseconds=1)),
        (add, DURATION_MAX, timedelta(microseconds=1)),
        (subtract, -DURATION_MAX, timedelta(seconds=1)),
        (add, TIMESTAMP_MAX, DURATION_MAX),
        (subtract, TIMESTAMP_MAX, TIMESTAMP_MIN),
        (subtract, TIMESTAMP_MIN, TIMESTAMP_MAX),
    ],
)
def test_arithmetic_leaving_the_range_is_a_range_error(operation, a, b):
    with pytest.raises(DslEvalError) as err:
        operation(a, b)
    assert err.value.code == "DSL_RANGE"


@pytest.mark.parametrize(
    ("operation", "a", "b"),
    [(add, TIMESTAMP_MIN, TIMESTAMP_MIN), (subtract, timedelta(0), TIMESTAMP_MIN), (add, 1, timedelta(0))],
)
def test_arithmetic_on_other_operands_has_no_overload(operation, a, b):
    with pytest.raises(DslEvalError) as err:
        operation(a, b)
    assert err.value.code == "DSL_NO_MATCHING_OVERLOAD"


def test_resolve_zone_accepts_iana_names_and_fixed_offsets():
    assert resolve_zone("+05:30").utcoffset(None) == timedelta(hours=5, minutes=30)
    assert resolve_zone("-08:00").utcoffset(None) == timedelta(hours=-8)
    assert resolve_zone("02:00").utcoffset(None) == timedelta(hours=2)
    assert str(resolve_zone("America/New_York")) == "America/New_York"
    for bad in ("Mars/Olympus", "+5:3", "+24:00", "+01:60", "../etc/passwd", ""):
        with pytest.raises(DslEvalError) as err:
            resolve_zone(bad)
        assert err.value.code == "DSL_INVALID_ARGUMENT"
