from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.values import UInt
from engine.model.amounts import AmountError, parse_amount, parse_decimal, quantum, to_amount, to_increment


@pytest.mark.parametrize(
    ("value", "scale", "expected"),
    [
        (10, 0, "10"),
        (10, 2, "10.00"),
        (UInt(7), 2, "7.00"),
        (12.5, 2, "12.50"),
        (0.1 + 0.2, 2, "0.30"),  # 0.30000000000000004: a binary rounding error, not a third place
        (19.99 * 3, 2, "59.97"),
        (1e-18, 18, "0.000000000000000001"),
    ],
)
def test_numbers_become_decimals_at_the_asset_scale(value, scale, expected):
    amount = to_amount(value, scale=scale)
    assert amount == Decimal(expected)
    assert format(amount, "f") == expected


@pytest.mark.parametrize(("value", "scale"), [(1.005, 2), (0.5, 0), (12.345, 2), (1.0000001, 2)])
def test_more_places_than_the_scale_is_invalid_scale(value, scale):
    with pytest.raises(AmountError) as caught:
        to_amount(value, scale=scale)
    assert caught.value.code == "invalid_scale"
    assert "amount exceeds asset scale" in caught.value.message


@pytest.mark.parametrize("value", [0, 0.0, -1, -0.5, UInt(0)])
def test_zero_or_negative_is_invalid_amount(value):
    with pytest.raises(AmountError) as caught:
        to_amount(value, scale=2)
    assert caught.value.code == "invalid_amount"


@pytest.mark.parametrize("value", ["10", True, None, [1], float("nan"), float("inf"), 1e30, 10**30])
def test_non_numbers_non_finite_and_huge_values_are_invalid_amount(value):
    with pytest.raises(AmountError) as caught:
        to_amount(value, scale=2)
    assert caught.value.code == "invalid_amount"


def test_max_transaction_amount_caps_a_single_amount():
    assert to_amount(1000, scale=2, maximum=Decimal("1000")) == Decimal("1000.00")
    with pytest.raises(AmountError) as caught:
        to_amount(1000.01, scale=2, maximum=Decimal("1000"))
    assert caught.value.code == "max_transaction_amount_exceeded"


@settings(max_examples=150, deadline=None)
@given(
    scale=st.integers(min_value=0, max_value=6),
    units=st.integers(min_value=1, max_value=10**12),
)
def test_a_double_of_any_value_at_the_scale_converts_back_exactly(scale, units):
    exact = Decimal(units).scaleb(-scale)
    assert to_amount(float(exact), scale=scale) == exact


def test_parse_decimal_checks_scale_and_range():
    assert parse_decimal("12.5", scale=2) == Decimal("12.50")
    assert parse_decimal("100") == Decimal(100)
    with pytest.raises(AmountError) as caught:
        parse_decimal("1.234", scale=2)
    assert caught.value.code == "invalid_scale"
    for bad in ("abc", "-1", "NaN", "1e40"):
        with pytest.raises(AmountError) as caught:
            parse_decimal(bad)
        assert caught.value.code == "invalid_amount"


def test_counter_increments_keep_the_shortest_decimal_of_a_double():
    assert to_increment(0.1) == Decimal("0.1")
    assert to_increment(49.99) == Decimal("49.99")
    assert to_increment(-2) == Decimal(-2)
    assert str(to_increment(12.0)) == "12"
    assert to_increment(UInt(3)) == Decimal(3)
    for bad in ("1", True, float("inf")):
        with pytest.raises(AmountError):
            to_increment(bad)


def test_quantum_is_one_step_of_the_scale():
    assert quantum(0) == Decimal(1)
    assert quantum(2) == Decimal("0.01")


@pytest.mark.parametrize(("text", "scale"), [("1.0000000000", 2), ("10.0", 0), ("1.000", 2), ("5E-3", 2)])
def test_an_amount_written_with_more_places_than_the_scale_is_invalid_scale(text, scale):
    with pytest.raises(AmountError) as caught:
        parse_amount(text, scale=scale)
    assert caught.value.code == "invalid_scale"


@pytest.mark.parametrize(("text", "scale", "expected"), [("1.00", 2, "1.00"), ("1", 2, "1.00"), ("1E+2", 0, "100")])
def test_an_amount_written_within_the_scale_is_taken_at_the_scale(text, scale, expected):
    assert parse_amount(text, scale=scale) == Decimal(expected)
    assert str(parse_amount(text, scale=scale)) == expected
