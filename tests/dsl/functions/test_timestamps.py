from datetime import UTC, datetime, timedelta, timezone

import pytest

from dsl.errors import DslEvalError
from dsl.functions import GLOBALS, METHODS
from dsl.temporal import TIMESTAMP_MAX
from tests.dsl.functions import invoke

timestamp, duration = GLOBALS["timestamp"].impl, GLOBALS["duration"].impl

# Friday 2009-02-13 23:31:30.123 UTC; 15:31 in Los Angeles, 05:01 on Saturday in India.
MOMENT = timestamp("2009-02-13T23:31:30.123Z")


@pytest.mark.parametrize(
    ("name", "utc", "los_angeles", "india"),
    [
        ("getFullYear", 2009, 2009, 2009),
        ("getMonth", 1, 1, 1),
        ("getDate", 13, 13, 14),
        ("getDayOfMonth", 12, 12, 13),
        ("getDayOfWeek", 5, 5, 6),
        ("getDayOfYear", 43, 43, 44),
        ("getHours", 23, 15, 5),
        ("getMinutes", 31, 31, 1),
        ("getSeconds", 30, 30, 30),
        ("getMilliseconds", 123, 123, 123),
    ],
)
def test_timestamp_accessors_in_utc_and_in_a_zone(name, utc, los_angeles, india):
    accessor = METHODS[name]
    assert accessor.arities == frozenset({0, 1})
    assert invoke(accessor, MOMENT) == utc
    assert invoke(accessor, MOMENT, "America/Los_Angeles") == los_angeles
    assert invoke(accessor, MOMENT, "+05:30") == india
    assert invoke(accessor, MOMENT, "Asia/Kolkata") == india


def test_accessors_read_utc_whatever_zone_the_value_carries():
    paris = MOMENT.astimezone(timezone(timedelta(hours=1)))
    assert invoke(METHODS["getHours"], paris) == 23


def test_new_year_boundaries_and_sunday():
    new_year = timestamp("2024-01-01T00:30:00Z")
    assert invoke(METHODS["getFullYear"], new_year, "-01:00") == 2023
    assert invoke(METHODS["getDayOfYear"], new_year, "-01:00") == 364
    assert invoke(METHODS["getDayOfWeek"], timestamp("2024-03-10T12:00:00Z")) == 0


def test_timezone_that_pushes_past_year_9999_is_a_range_error():
    with pytest.raises(DslEvalError) as err:
        invoke(METHODS["getFullYear"], TIMESTAMP_MAX, "+05:00")
    assert err.value.code == "DSL_RANGE"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("getHours", -1), ("getMinutes", -90), ("getSeconds", -5430), ("getMilliseconds", -500)],
)
def test_duration_accessors_return_totals_truncated_toward_zero_but_milliseconds_of_the_second(name, expected):
    assert invoke(METHODS[name], duration("-90m30.5s")) == expected
    assert invoke(METHODS[name], duration("90m30.5s")) == -expected


@pytest.mark.parametrize(
    ("receiver", "args"),
    [
        (duration("1h"), ()),
        (duration("1h"), ("UTC",)),
        ("2009-02-13T23:31:30Z", ()),
        (MOMENT, (5,)),
    ],
)
def test_accessors_without_an_overload(receiver, args):
    name = "getFullYear" if type(receiver) is timedelta and not args else "getHours"
    with pytest.raises(DslEvalError) as err:
        invoke(METHODS[name], receiver, *args)
    assert err.value.code == "DSL_NO_MATCHING_OVERLOAD"


def test_unknown_zone_is_an_invalid_argument():
    with pytest.raises(DslEvalError) as err:
        invoke(METHODS["getHours"], MOMENT, "Mars/Olympus")
    assert err.value.code == "DSL_INVALID_ARGUMENT"


def test_timestamp_and_duration_conversions():
    assert timestamp(1_000_000_000) == datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC)
    assert timestamp(MOMENT) is MOMENT
    assert duration("1.5s") == timedelta(seconds=1.5)
    hour = duration("1h")
    assert duration(hour) is hour
    for impl, bad in ((timestamp, 1.5), (timestamp, True), (duration, 3), (duration, MOMENT)):
        with pytest.raises(DslEvalError) as err:
            impl(bad)
        assert err.value.code == "DSL_NO_MATCHING_OVERLOAD"


def test_duration_milliseconds_is_the_field_within_the_second():
    assert invoke(METHODS["getMilliseconds"], duration("123.321456s")) == 321
    assert invoke(METHODS["getMilliseconds"], duration("-0.0015s")) == -1
