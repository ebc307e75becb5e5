"""Column types that keep values exact across SQLite and PostgreSQL.

* `AmountField`: a `Decimal` stored exactly (`NUMERIC` on PostgreSQL, canonical decimal text
  such as "-12.50" on SQLite). Never a float.
* `UTCDateTimeField`: an aware UTC `datetime`, stored as naive UTC with microseconds (text that
  sorts chronologically on SQLite, `timestamp` on PostgreSQL).
* `JSONField`: any msgspec-encodable value as compact JSON text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
import peewee


def canonical_decimal(value: Decimal) -> str:
    """Plain notation, no exponent, "-0" folded to "0".

    >>> canonical_decimal(Decimal("1E+2")), canonical_decimal(Decimal("-0.00"))
    ('100', '0.00')
    """
    if value.is_zero():
        value = abs(value)
    return format(value, "f")


def to_decimal(value: Any) -> Decimal:
    """A stored amount as read from the driver (NUMERIC, or decimal text on SQLite) as a `Decimal`;
    `AmountField.python_value` of a column that is not null."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


class AmountField(peewee.Field):
    field_type = "AMOUNT"

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            try:
                value = Decimal(str(value))
            except InvalidOperation as exc:
                raise ValueError(f"not a decimal amount: {value!r}") from exc
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value!r}")
        return canonical_decimal(value)

    def python_value(self, value: Any) -> Decimal | None:
        return None if value is None else to_decimal(value)


class UTCDateTimeField(peewee.Field):
    field_type = "DATETIME"

    def db_value(self, value: datetime | str | None) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):  # an RFC 3339 / ISO 8601 text, e.g. a filter from a query string
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if not isinstance(value, datetime):
            raise ValueError(f"not a datetime: {value!r}")
        if value.tzinfo is UTC:  # the common case (utcnow), without a conversion
            value = value.replace(tzinfo=None)
        elif value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        # Fixed-width text with microseconds sorts chronologically on SQLite; PostgreSQL casts it.
        return value.isoformat(sep=" ", timespec="microseconds")

    def python_value(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JSONField(peewee.TextField):
    field_type = "JSON"

    def db_value(self, value: Any) -> str | None:
        return None if value is None else msgspec.json.encode(value).decode()

    def python_value(self, value: Any) -> Any:
        return None if value is None else msgspec.json.decode(value)
