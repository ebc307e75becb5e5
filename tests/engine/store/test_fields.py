from __future__ import annotations

from decimal import Decimal

import pytest

from engine.store.fields import AmountField, canonical_decimal


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("1E+2"), "100"), (Decimal("-0.00"), "0.00"), (Decimal("0.000000000000000001"), "0.000000000000000001"),
    (Decimal("-12.50"), "-12.50"),
])
def test_canonical_decimal_is_plain_notation(value, text):
    assert canonical_decimal(value) == text


def test_amount_field_refuses_what_is_not_a_finite_decimal():
    field = AmountField()
    assert field.db_value("2.50") == "2.50" and field.python_value("2.50") == Decimal("2.50")
    for bad in ("abc", Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(ValueError):
            field.db_value(bad)
