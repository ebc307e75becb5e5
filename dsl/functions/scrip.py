"""Scrip's helper functions (D8): `get(map, key, default)` and `round(x, digits)`.

`round` rounds half to even at `digits` decimals. A double is rounded as the decimal it prints
as (its shortest representation), not as its exact binary value: `round(2.675, 2)` is 2.68
because "2.675" is the number the rule's author wrote, although the nearest double is
2.67499999999999982236431605997495353221893310546875. An int is returned unchanged for
`digits >= 0` and rounded to tens, hundreds, ... for negative `digits`.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from dsl.errors import DslEvalError
from dsl.functions.registry import Function, function, no_overload
from dsl.values import UInt, map_lookup

DIGITS_MAX = 400  # beyond this, every double and int64 is already exact or rounds to zero
_INT_RANGE = {int: (-(2**63), 2**63 - 1), UInt: (0, 2**64 - 1)}
_CONTEXT = Context(prec=800, rounding=ROUND_HALF_EVEN)


def get(mapping: Any, key: Any, default: Any) -> Any:
    """`get(participant.attributes, 'tier', 'none')`: the value under `key`, or `default` when the
    map has no such key (1, 1u and 1.0 find the same entry)."""
    if type(mapping) is not dict:
        raise no_overload("get", mapping, key, default)
    found, value = map_lookup(mapping, key)
    return value if found else default


def round_half_even(value: Any, digits: Any) -> Any:
    """`round(2.5, 0)` is 2.0, `round(2.675, 2)` is 2.68, `round(1250, -2)` is 1200."""
    kind = type(value)
    if type(digits) is not int or kind not in (float, int, UInt):
        raise no_overload("round", value, digits)
    digits = max(-DIGITS_MAX, min(DIGITS_MAX, digits))
    if kind is float:
        if not math.isfinite(value):
            return value
        return float(_quantize(Decimal(repr(value)), digits))
    if digits >= 0:
        return value
    rounded = int(_quantize(Decimal(value), digits))
    low, high = _INT_RANGE[kind]
    if not low <= rounded <= high:
        raise DslEvalError(f"round({value}, {digits}) overflows", code="DSL_OVERFLOW")
    return kind(rounded)


def _quantize(number: Decimal, digits: int) -> Decimal:
    step = Decimal(1).scaleb(-digits)
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # a finite number's: round() returns NaN and the infinities as they are
    if exponent >= -digits:
        return number  # already has no more than `digits` decimals
    return number.quantize(step, context=_CONTEXT)


FUNCTIONS: tuple[Function, ...] = (
    function("get", get, 3),
    function("round", round_half_even, 2, cost=40),
)
