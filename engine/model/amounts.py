"""Amounts as exact decimals at an asset's scale (D19).

A rule's amount expression yields a CEL int, uint or double. It becomes a `Decimal` with exactly
`scale` places:

    >>> to_amount(12.5, scale=2)
    Decimal('12.50')
    >>> to_amount(0.1 + 0.2, scale=2)   # 0.30000000000000004 is within 1e-9 of 0.30
    Decimal('0.30')
    >>> to_amount(1.005, scale=2)
    Traceback (most recent call last):
    ...
    engine.model.amounts.AmountError: amount exceeds asset scale: 1.005 has more than 2 decimal places

Errors (`AmountError`, an `EvaluationError`) carry the codes `invalid_scale`, `invalid_amount`
and `max_transaction_amount_exceeded`.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation, localcontext

from dsl.values import type_name
from engine.errors import EvaluationError
from engine.limits import AMOUNT_INTEGER_DIGITS_MAX

RELATIVE_TOLERANCE = Decimal("1e-9")
_UPPER_BOUND = Decimal(10) ** AMOUNT_INTEGER_DIGITS_MAX
_QUANTA = tuple(Decimal(1).scaleb(-scale) for scale in range(19))  # scale 0..18


class AmountError(EvaluationError):
    code = "invalid_amount"


def quantum(scale: int) -> Decimal:
    """The smallest step of an asset: `quantum(2) == Decimal("0.01")`."""
    return _QUANTA[scale]


def to_amount(value: object, *, scale: int, maximum: Decimal | None = None) -> Decimal:
    """Convert a CEL number to a positive Decimal at `scale`, or raise `AmountError`."""
    exact = _exact_decimal(value)
    if not exact > 0:
        raise AmountError(f"amount must be positive, got {_show(value)}", code="invalid_amount")
    if exact >= _UPPER_BOUND:
        raise AmountError(
            f"amount {_show(exact)} has more than {AMOUNT_INTEGER_DIGITS_MAX} integer digits",
            code="invalid_amount",
        )
    amount = _at_scale(exact, value, scale)
    check_limit(amount, maximum)
    return amount


def check_limit(amount: Decimal, maximum: Decimal | None) -> None:
    """`max_transaction_amount_exceeded` when one movement's `amount` is above the asset's
    `maximum` (None: no limit); rules, storage and test cases' spending steps share it."""
    if maximum is not None and amount > maximum:
        raise AmountError(
            f"amount {amount} exceeds the asset's max_transaction_amount {maximum}",
            code="max_transaction_amount_exceeded",
        )


def parse_decimal(text: str, *, scale: int | None = None, what: str = "amount") -> Decimal:
    """Parse a decimal string such as a budget limit or max_transaction_amount ("100", "12.50").

    With `scale`, the value is returned at that scale and more places raise `invalid_scale`."""
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError, ValueError) as exc:
        message = f"{what} {text!r} is not a decimal number"
        raise AmountError(message, code="invalid_amount") from exc
    if not value.is_finite() or value < 0 or value >= _UPPER_BOUND:
        raise AmountError(f"{what} {text!r} is out of range", code="invalid_amount")
    if scale is None:
        return value
    at_scale = value.quantize(_QUANTA[scale])
    if at_scale != value:
        raise AmountError(f"{what} {text} has more than {scale} decimal places", code="invalid_scale")
    return at_scale


def parse_amount(value: object, *, scale: int, what: str = "amount") -> Decimal:
    """An amount a person wrote (a decimal string, an int or a `Decimal`, never a float): positive,
    at most `AMOUNT_INTEGER_DIGITS_MAX` integer digits, no more places than `scale` (written ones
    count: "1.000" is too many for scale 2); returned at exactly `scale` places. The API and the
    direct operations take amounts through here.

    >>> parse_amount("10.5", scale=2)
    Decimal('10.50')
    """
    if isinstance(value, (bool, float)):
        raise AmountError(f"{what} must be a decimal string, got {value!r}", code="invalid_amount")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise AmountError(f"{what} {value!r} is not a decimal number", code="invalid_amount") from None
    if not amount.is_finite() or amount <= 0:
        raise AmountError(f"{what} must be positive, got {value!r}", code="invalid_amount")
    if amount >= _UPPER_BOUND:
        raise AmountError(
            f"{what} {value} has more than {AMOUNT_INTEGER_DIGITS_MAX} integer digits", code="invalid_amount"
        )
    if not isinstance(value, Decimal):
        _check_written_places(amount, scale, what)
    return at_scale(amount, scale, what=what)


def _check_written_places(written: Decimal, scale: int, what: str) -> None:
    """D19 counts the decimal places written: "1.000" on a scale-2 asset is `invalid_scale`, as
    "1.001" is, although it equals an amount at the scale."""
    exponent = written.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -scale:
        raise AmountError(f"{what} {written} has more than {scale} decimal places", code="invalid_scale")


def at_scale(amount: Decimal, scale: int, *, what: str = "amount") -> Decimal:
    """`amount` written with exactly `scale` places (10 -> 10.00), so stored and hashed forms never
    depend on how a caller wrote it; an amount with more places is `invalid_scale` (D19).

    >>> at_scale(Decimal("10"), 2)
    Decimal('10.00')
    """
    scaled = amount.quantize(_QUANTA[scale])
    if scaled != amount:
        raise AmountError(f"{what} {amount} has more than {scale} decimal places", code="invalid_scale")
    return scaled


def to_increment(value: object) -> Decimal:
    """A COUNTER increment: any finite CEL number, as the shortest exact decimal of its text
    (`to_increment(0.1) == Decimal("0.1")`, not the binary expansion of the double)."""
    if type(value) is bool or not isinstance(value, (int, float)):
        raise AmountError(f"counter value must be a number, got {type_name(value)}", code="invalid_amount")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AmountError(f"counter value must be finite, got {value}", code="invalid_amount")
        return Decimal(int(value)) if value.is_integer() else Decimal(repr(value))
    return Decimal(int(value))


def _exact_decimal(value: object) -> Decimal:
    if type(value) is bool or not isinstance(value, (int, float)):
        raise AmountError(f"amount must be a number, got {type_name(value)}", code="invalid_amount")
    if isinstance(value, float) and not math.isfinite(value):
        raise AmountError(f"amount must be finite, got {value}", code="invalid_amount")
    return Decimal(value) if isinstance(value, float) else Decimal(int(value))


def _at_scale(exact: Decimal, value: object, scale: int) -> Decimal:
    with localcontext() as context:
        context.prec = AMOUNT_INTEGER_DIGITS_MAX + 40
        nearest = exact.quantize(_QUANTA[scale])
        if nearest == exact:
            return nearest
        # Only doubles may be off by a binary rounding error; ints are exact at any scale.
        if isinstance(value, float) and nearest > 0 and abs(exact - nearest) <= RELATIVE_TOLERANCE * nearest:
            return nearest
    raise AmountError(
        f"amount exceeds asset scale: {_show(value)} has more than {scale} decimal places",
        code="invalid_scale",
    )


def _show(value: object) -> str:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    return str(value)
