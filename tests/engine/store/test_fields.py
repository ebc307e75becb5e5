from __future__ import annotations

from decimal import Decimal

import pytest

from engine.store.fields import AmountField, canonical_decimal


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E+2"), "100"),
        (Decimal("-0.00"), "0.00"),
        (Decimal("0.000000000000000001"), "0.000000000000000001"),
        (Decimal("-12.50"), "-12.50"),
    ],
)
def test_canonical_decimal_is_plain_notation(value, text):
    assert canonical_decimal(value) == text


def test_amount_field_refuses_what_is_not_a_finite_decimal():
    field = AmountField()
    assert field.db_value("2.50") == "2.50" and field.python_value("2.50") == Decimal("2.50")
    for bad in ("abc", Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(ValueError):
            field.db_value(bad)


def test_datetimes_are_stored_as_sortable_utc_text():
    from datetime import UTC, datetime

    from engine.store.fields import UTCDateTimeField

    field = UTCDateTimeField()
    assert field.db_value("2026-01-01T12:00:00+02:00") == "2026-01-01 10:00:00.000000"
    assert field.db_value(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01 00:00:00.000000"
    assert field.python_value("2026-01-01 00:00:00.000000") == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        field.db_value(12)
