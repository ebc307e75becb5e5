import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.errors import DslEvalError
from dsl.functions import GLOBALS
from dsl.functions.conversions import format_double
from dsl.temporal import parse_duration, parse_timestamp
from dsl.values import CelType, UInt
from tests.dsl.functions import invoke


def convert(name, value):
    return invoke(GLOBALS[name], value)


def exactly(a, b):
    return type(a) is type(b) and (a == b or (a != a and b != b))


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("int", 42, 42),
        ("int", UInt(42), 42),
        ("int", UInt(2**63 - 1), 2**63 - 1),
        ("int", -123.456, -123),
        ("int", 11.5, 11),
        ("int", -7.9, -7),
        ("int", float(2**55), 2**55),
        ("int", "987", 987),
        ("int", "-42", -42),
        ("int", "+7", 7),
        ("int", parse_timestamp("2004-09-16T23:59:59Z"), 1095379199),
        ("int", parse_timestamp("1969-12-31T23:59:59.5Z"), -1),
        ("uint", 1729, UInt(1729)),
        ("uint", 3.14159265, UInt(3)),
        ("uint", -0.5, UInt(0)),
        ("uint", "300", UInt(300)),
        ("uint", UInt(1), UInt(1)),
        ("double", 0, 0.0),
        ("double", 2**63 - 1, 9.223372036854776e18),
        ("double", UInt(2**64 - 1), 1.8446744073709552e19),
        ("double", "-0.0", -0.0),
        ("double", "6.02214e23", 6.02214e23),
        ("double", "-84.32e7", -843200000.0),
        ("double", "inf", math.inf),
        ("double", "-Infinity", -math.inf),
        ("double", "NaN", math.nan),
        ("double", "0x1p-2", 0.25),
        ("double", ".5", 0.5),
        ("double", "1e-400", 0.0),
        ("double", 5.5, 5.5),
        ("string", 123, "123"),
        ("string", UInt(9876), "9876"),
        ("string", -4.5e-3, "-0.0045"),
        ("string", True, "true"),
        ("string", b"\xc3\xbf", "ÿ"),
        ("string", parse_timestamp("2009-02-13T23:31:30.5Z"), "2009-02-13T23:31:30.5Z"),
        ("string", parse_duration("-1m1.5s"), "-61.5s"),
        ("string", "hello", "hello"),
        ("string", CelType("google.protobuf.Duration"), "google.protobuf.Duration"),
        ("bytes", "ÿ", b"\xc3\xbf"),
        ("bytes", b"abc", b"abc"),
        ("bool", "1", True),
        ("bool", "TRUE", True),
        ("bool", "f", False),
        ("bool", "False", False),
        ("bool", True, True),
    ],
)
def test_conversions(name, value, expected):
    assert exactly(convert(name, value), expected)


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("int", UInt(2**64 - 1), "DSL_RANGE"),
        ("int", 9223372036854775807.0, "DSL_RANGE"),
        ("int", -9223372036854775808.0, "DSL_RANGE"),
        ("int", 1e99, "DSL_RANGE"),
        ("int", math.nan, "DSL_RANGE"),
        ("int", math.inf, "DSL_RANGE"),
        ("int", "9223372036854775808", "DSL_RANGE"),
        ("int", "12a", "DSL_INVALID_ARGUMENT"),
        ("int", " 1", "DSL_INVALID_ARGUMENT"),
        ("int", "1_000", "DSL_INVALID_ARGUMENT"),
        ("int", "1.0", "DSL_INVALID_ARGUMENT"),
        ("int", True, "DSL_NO_MATCHING_OVERLOAD"),
        ("int", None, "DSL_NO_MATCHING_OVERLOAD"),
        ("uint", -1, "DSL_RANGE"),
        ("uint", 6.022e23, "DSL_RANGE"),
        ("uint", 18446744073709551616.0, "DSL_RANGE"),
        ("uint", -1.0, "DSL_RANGE"),
        ("uint", "-1", "DSL_INVALID_ARGUMENT"),
        ("uint", "18446744073709551616", "DSL_RANGE"),
        ("uint", parse_duration("1s"), "DSL_NO_MATCHING_OVERLOAD"),
        ("double", "1e400", "DSL_RANGE"),
        ("double", "1_0", "DSL_INVALID_ARGUMENT"),
        ("double", " 1", "DSL_INVALID_ARGUMENT"),
        ("double", "", "DSL_INVALID_ARGUMENT"),
        ("double", True, "DSL_NO_MATCHING_OVERLOAD"),
        ("string", b"\x00\xff", "DSL_INVALID_ARGUMENT"),
        ("string", None, "DSL_NO_MATCHING_OVERLOAD"),
        ("string", [1], "DSL_NO_MATCHING_OVERLOAD"),
        ("bytes", "\udc31", "DSL_INVALID_ARGUMENT"),
        ("bytes", 1, "DSL_NO_MATCHING_OVERLOAD"),
        ("bool", "TrUe", "DSL_INVALID_ARGUMENT"),
        ("bool", 1, "DSL_NO_MATCHING_OVERLOAD"),
    ],
)
def test_conversion_errors(name, value, code):
    with pytest.raises(DslEvalError) as err:
        convert(name, value)
    assert err.value.code == code


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (123.456, "123.456"),
        (1.5, "1.5"),
        (1e100, "1e+100"),
        (1e6, "1e+06"),
        (123456.0, "123456"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (1e-05, "1e-05"),
        (2.5e-10, "2.5e-10"),
        (100.0, "100"),
        (-0.0, "-0"),
        (0.0, "0"),
        (1 / 3, "0.3333333333333333"),
        (math.nan, "NaN"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
    ],
)
def test_format_double_follows_go_percent_g(value, text):
    assert format_double(value) == text


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_double_string_round_trip_is_exact(value):
    text = convert("string", value)
    back = convert("double", text)
    assert struct.pack(">d", back) == struct.pack(">d", value)
