"""The CEL math extension (cel-go `ext.Math`).

`math.greatest` / `math.least` take one number, one list of numbers, or several numbers of mixed
types (int, uint, double), compare them by value and return the winner with its own type; ties
keep the earliest argument, and NaN is returned only when every argument is NaN. Rounding
functions take and return doubles (`math.round` rounds half away from zero). Bit functions work
on 64-bit two's complement ints and on uints; shifts by 64 or more give 0 (or -1 for a negative
int shifted right).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from dsl.errors import DslEvalError
from dsl.functions.registry import Function, function, invalid_argument, no_overload
from dsl.limits import Budget
from dsl.values import UInt

VARIADIC_ARITY_MAX = 64  # math.greatest(a, b, ...) accepts up to this many arguments
INT64_MIN = -(2**63)
_MASK64 = 2**64 - 1
_NUMBERS = frozenset({int, UInt, float})


def _extreme(budget: Budget, name: str, args: tuple[Any, ...], wins: Callable[[Any, Any], bool]) -> Any:
    values = args[0] if len(args) == 1 and type(args[0]) is list else args
    budget.charge(len(values) // 2 + 1)  # compared one by one, in Python
    if not values:
        raise invalid_argument(f"{name}() requires at least one number")
    best = values[0]
    for value in values:
        if type(value) not in _NUMBERS:
            raise no_overload(name, *values)
        if wins(value, best) or best != best:  # `best != best` only for NaN, which never wins
            best = value
    return best


def greatest(budget: Budget, *args: Any) -> Any:
    """`math.greatest(1, 2.5, 3u)` is 3u; `math.greatest([1, 5])` is 5."""
    return _extreme(budget, "math.greatest", args, lambda value, best: value > best)


def least(budget: Budget, *args: Any) -> Any:
    """`math.least(-1, 0.5)` is -1."""
    return _extreme(budget, "math.least", args, lambda value, best: value < best)


def _double(name: str, value: Any) -> float:
    if type(value) is not float:
        raise no_overload(name, value)
    return value


def _integral(name: str, value: Any, to_integer: Callable[[float], int]) -> float:
    number = _double(name, value)
    if not math.isfinite(number):
        return number
    return math.copysign(float(to_integer(number)), number)  # keeps -0.0 for ceil(-0.5)


def ceil(value: Any) -> float:
    """`math.ceil(1.2)` is 2.0."""
    return _integral("math.ceil", value, math.ceil)


def floor(value: Any) -> float:
    """`math.floor(-1.2)` is -2.0."""
    return _integral("math.floor", value, math.floor)


def trunc(value: Any) -> float:
    """`math.trunc(-1.7)` is -1.0."""
    return _integral("math.trunc", value, math.trunc)


def _round_half_away(number: float) -> int:
    whole = math.trunc(number)
    if abs(number - whole) >= 0.5:  # exact: a double minus its integral part loses nothing
        whole += 1 if number > 0 else -1
    return whole


def round_half_away(value: Any) -> float:
    """`math.round(2.5)` is 3.0, `math.round(-2.5)` is -3.0 (half away from zero)."""
    return _integral("math.round", value, _round_half_away)


def absolute(value: Any) -> Any:
    """`math.abs(-3)` is 3; `math.abs(-9223372036854775808)` overflows."""
    kind = type(value)
    if kind is float:
        return abs(value)
    if kind is int:
        if value == INT64_MIN:
            raise DslEvalError("math.abs() of the smallest int overflows", code="DSL_OVERFLOW")
        return abs(value)
    if kind is UInt:
        return value
    raise no_overload("math.abs", value)


def sign(value: Any) -> Any:
    """-1, 0 or 1 in the argument's type: `math.sign(-2.5)` is -1.0; NaN stays NaN."""
    kind = type(value)
    if kind is float:
        if math.isnan(value):
            return value
        return 1.0 if value > 0 else -1.0 if value < 0 else 0.0
    if kind is int:
        return (value > 0) - (value < 0)
    if kind is UInt:
        return UInt(1 if value else 0)
    raise no_overload("math.sign", value)


def is_nan(value: Any) -> bool:
    return math.isnan(_double("math.isNaN", value))


def is_inf(value: Any) -> bool:
    return math.isinf(_double("math.isInf", value))


def is_finite(value: Any) -> bool:
    return math.isfinite(_double("math.isFinite", value))


def _to_int64(bits: int) -> int:
    bits &= _MASK64
    return bits - 2**64 if bits >= 2**63 else bits


def _bitwise(name: str, operation: Callable[[int, int], int]) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        if type(a) is int and type(b) is int:
            return _to_int64(operation(a, b))
        if type(a) is UInt and type(b) is UInt:
            return UInt(operation(a, b) & _MASK64)
        raise no_overload(name, a, b)

    apply.__name__ = name.replace("math.", "")
    return apply


def bit_not(value: Any) -> Any:
    """`math.bitNot(1)` is -2; `math.bitNot(0u)` is 18446744073709551615u."""
    if type(value) is int:
        return ~value
    if type(value) is UInt:
        return UInt(~value & _MASK64)
    raise no_overload("math.bitNot", value)


def _shift_operands(name: str, value: Any, bits: Any) -> None:
    if type(value) not in (int, UInt) or type(bits) is not int:
        raise no_overload(name, value, bits)
    if bits < 0:
        raise invalid_argument(f"{name}() negative offset: {bits}")


def bit_shift_left(value: Any, bits: Any) -> Any:
    """`math.bitShiftLeft(1, 3)` is 8; bits shifted past 64 are lost."""
    _shift_operands("math.bitShiftLeft", value, bits)
    if bits >= 64:
        return UInt(0) if type(value) is UInt else 0
    shifted = (value << bits) & _MASK64
    return UInt(shifted) if type(value) is UInt else _to_int64(shifted)


def bit_shift_right(value: Any, bits: Any) -> Any:
    """`math.bitShiftRight(-8, 1)` is -4 (arithmetic for ints, logical for uints)."""
    _shift_operands("math.bitShiftRight", value, bits)
    shifted = value >> min(bits, 64)
    return UInt(shifted) if type(value) is UInt else shifted


_VARIADIC = tuple(range(1, VARIADIC_ARITY_MAX + 1))

FUNCTIONS: tuple[Function, ...] = (
    function("math.greatest", greatest, *_VARIADIC, budget=True),
    function("math.least", least, *_VARIADIC, budget=True),
    function("math.ceil", ceil, 1),
    function("math.floor", floor, 1),
    function("math.round", round_half_away, 1),
    function("math.trunc", trunc, 1),
    function("math.abs", absolute, 1),
    function("math.sign", sign, 1),
    function("math.isNaN", is_nan, 1),
    function("math.isInf", is_inf, 1),
    function("math.isFinite", is_finite, 1),
    function("math.bitAnd", _bitwise("math.bitAnd", lambda a, b: a & b), 2),
    function("math.bitOr", _bitwise("math.bitOr", lambda a, b: a | b), 2),
    function("math.bitXor", _bitwise("math.bitXor", lambda a, b: a ^ b), 2),
    function("math.bitNot", bit_not, 1),
    function("math.bitShiftLeft", bit_shift_left, 2),
    function("math.bitShiftRight", bit_shift_right, 2),
)
