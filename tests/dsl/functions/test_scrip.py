import math
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.errors import DslEvalError
from dsl.functions import GLOBALS
from dsl.values import UInt

get, round_ = GLOBALS["get"].impl, GLOBALS["round"].impl


def test_get_returns_the_value_or_the_default():
    mapping = {"tier": "gold", 1: "one"}
    assert get(mapping, "tier", "none") == "gold"
    assert get(mapping, "missing", "none") == "none"
    assert get(mapping, 1.0, None) == "one"
    assert get(mapping, UInt(1), None) == "one"
    assert get({1: "one"}, True, "default") == "default"
    assert get({}, [1], "unhashable") == "unhashable"


def test_get_needs_a_map():
    with pytest.raises(DslEvalError) as err:
        get(["a"], 0, None)
    assert err.value.code == "DSL_NO_MATCHING_OVERLOAD"


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (2.675, 2, 2.68),
        (2.665, 2, 2.66),
        (2.5, 0, 2.0),
        (3.5, 0, 4.0),
        (-2.5, 0, -2.0),
        (1.005, 2, 1.0),
        (123.456, 400, 123.456),
        (1234.5, -2, 1200.0),
        (1e300, -400, 0.0),
        (0.1 + 0.2, 2, 0.3),
        (1250, -2, 1200),
        (1350, -2, 1400),
        (7, 3, 7),
        (UInt(150), -2, UInt(200)),
    ],
)
def test_round_half_even(value, digits, expected):
    result = round_(value, digits)
    assert type(result) is type(expected) and result == expected


def test_round_keeps_non_finite_doubles():
    assert math.isnan(round_(math.nan, 2))
    assert round_(-math.inf, 2) == -math.inf


@pytest.mark.parametrize(
    ("value", "digits", "code"),
    [
        (2**63 - 1, -1, "DSL_OVERFLOW"),
        (UInt(2**64 - 1), -1, "DSL_OVERFLOW"),
        ("1.5", 0, "DSL_NO_MATCHING_OVERLOAD"),
        (1.5, 0.0, "DSL_NO_MATCHING_OVERLOAD"),
        (True, 0, "DSL_NO_MATCHING_OVERLOAD"),
    ],
)
def test_round_errors(value, digits, code):
    with pytest.raises(DslEvalError) as err:
        round_(value, digits)
    assert err.value.code == code


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15), st.integers(0, 6))
def test_round_matches_decimal_half_even_on_the_written_number(value, digits):
    expected = float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_EVEN))
    assert round_(value, digits) == expected
