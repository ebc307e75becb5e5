"""The operators of CEL on Python values: arithmetic, ordering, membership, selection and indexing.

Each function takes evaluated operands and returns a CEL value or raises `DslEvalError` with a
refined code. Types are exact (`type(x) is int`, never `isinstance`, because `bool` is an int in
Python): `1 + 1.0` is an error whose message says how to fix it (D7), `1 < 1.5` is allowed.

    >>> add(1, 2), lt(1, 1.5)
    (3, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NoReturn

from dsl import temporal
from dsl.errors import DslEvalError, shown
from dsl.limits import (
    SMALL_LIST,
    Budget,
    check_bytes_length,
    check_count,
    check_length,
    check_string_length,
    compare_units,
)
from dsl.literals import INT64_MAX, INT64_MIN, UINT64_MAX
from dsl.values import Optional, UInt, cel_equals, map_lookup, type_name

_NUMBERS = (int, UInt, float)
_ORDERED = frozenset((int, UInt, float, str, bytes, bool, timedelta, datetime))


def no_overload(operator: str, *values: Any) -> DslEvalError:
    types = ", ".join(type_name(v) for v in values)
    message = f"no matching overload for '{operator}' applied to ({types})"
    kinds = {type(v) for v in values}
    if kinds == {int, float}:
        number = next(v for v in values if type(v) is int)
        message += f": int and double do not mix; write {number}.0 instead of {number}, or convert with double()"
    elif kinds == {int, UInt}:
        message += ": int and uint do not mix; write a uint literal such as 1u, or convert with uint()/int()"
    return DslEvalError(message, code="DSL_NO_MATCHING_OVERLOAD")


def overflow(operator: str) -> DslEvalError:
    return DslEvalError(f"integer overflow in '{operator}'", code="DSL_OVERFLOW")


def _int(value: int, operator: str) -> int:
    if INT64_MIN <= value <= INT64_MAX:
        return value
    raise overflow(operator)


def _uint(value: int, operator: str) -> UInt:
    if 0 <= value <= UINT64_MAX:
        return UInt(value)
    raise overflow(operator)


def add(a: Any, b: Any) -> Any:
    kind = type(a)
    if kind is type(b):
        if kind is int:
            return _int(a + b, "+")
        if kind is float:
            return a + b
        if kind is str:
            check_string_length(len(a) + len(b))
            return a + b
        if kind is UInt:
            return _uint(a + b, "+")
        if kind is list:
            check_count(len(a) + len(b))
            return a + b
        if kind is bytes:
            check_bytes_length(len(a) + len(b))
            return a + b
        if kind is timedelta:
            return temporal.add(a, b)
    elif isinstance(a, (datetime, timedelta)) and isinstance(b, (datetime, timedelta)):
        return temporal.add(a, b)
    raise no_overload("+", a, b)


def sub(a: Any, b: Any) -> Any:
    kind = type(a)
    if kind is type(b):
        if kind is int:
            return _int(a - b, "-")
        if kind is float:
            return a - b
        if kind is UInt:
            return _uint(a - b, "-")
    if isinstance(a, (datetime, timedelta)) and isinstance(b, (datetime, timedelta)):
        return temporal.subtract(a, b)
    raise no_overload("-", a, b)


def mul(a: Any, b: Any) -> Any:
    kind = type(a)
    if kind is type(b):
        if kind is int:
            return _int(a * b, "*")
        if kind is float:
            return a * b
        if kind is UInt:
            return _uint(a * b, "*")
    raise no_overload("*", a, b)


def div(a: Any, b: Any) -> Any:
    kind = type(a)
    if kind is type(b):
        if kind is float:
            if b == 0.0:
                return _float_divide_by_zero(a, b)
            return a / b
        if kind is int or kind is UInt:
            if b == 0:
                raise DslEvalError("division by zero", code="DSL_DIVIDE_BY_ZERO")
            quotient = abs(a) // abs(b)
            if (a < 0) != (b < 0):
                quotient = -quotient
            return _int(quotient, "/") if kind is int else UInt(quotient)
    raise no_overload("/", a, b)


def _float_divide_by_zero(a: float, b: float) -> float:
    """IEEE 754, which Python's `/` refuses: x/0.0 is an infinity signed by both operands, 0/0 NaN."""
    if a == 0.0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def mod(a: Any, b: Any) -> Any:
    kind = type(a)
    if kind is type(b) and (kind is int or kind is UInt):
        if b == 0:
            raise DslEvalError("modulus by zero", code="DSL_DIVIDE_BY_ZERO")
        remainder = abs(a) % abs(b)  # the sign follows the dividend, as in C and Go
        if a < 0:
            remainder = -remainder
        return remainder if kind is int else UInt(remainder)
    raise no_overload("%", a, b)


def neg(a: Any) -> Any:
    kind = type(a)
    if kind is int:
        return _int(-a, "-")
    if kind is float:
        return -a
    raise no_overload("-", a)  # CEL negates only int and double


def not_(a: Any) -> bool:
    if a is True:
        return False
    if a is False:
        return True
    raise no_overload("!", a)


def _ordered(operator: str, a: Any, b: Any) -> tuple[Any, Any]:
    """The two operands in a form Python orders the way CEL does, or a no-overload error."""
    ta, tb = type(a), type(b)
    if ta is tb and ta in _ORDERED:
        return a, b
    if ta in _NUMBERS and tb in _NUMBERS:
        if ta is float or tb is float:
            # CEL compares an int with a double as doubles (the spec's lossy conversion).
            return float(a), float(b)
        return a, b
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a, b
    raise no_overload(operator, a, b)


def lt(a: Any, b: Any) -> bool:
    x, y = _ordered("<", a, b)
    return x < y


def le(a: Any, b: Any) -> bool:
    x, y = _ordered("<=", a, b)
    return x <= y


def gt(a: Any, b: Any) -> bool:
    x, y = _ordered(">", a, b)
    return x > y


def ge(a: Any, b: Any) -> bool:
    x, y = _ordered(">=", a, b)
    return x >= y


def eq(a: Any, b: Any) -> bool:
    return cel_equals(a, b)


def ne(a: Any, b: Any) -> bool:
    return not cel_equals(a, b)


def in_(element: Any, container: Any, budget: Budget | None = None) -> bool:
    """`element in container`; a search through a list charges `budget` (one of its own when
    None) by the list's length."""
    if type(container) is list:
        large = len(container) > SMALL_LIST
        if large and budget is None:
            budget = Budget()
        if type(element) is str:  # str equals only str, in Python as in CEL: a scan at C speed
            if large:
                budget.charge(compare_units(len(container), len(element)))  # type: ignore[union-attr]
            return element in container
        if budget is not None:
            budget.charge(4 * len(container))  # compared one by one, in Python
        return any(cel_equals(element, item, budget) for item in container)
    if isinstance(container, Mapping):
        return map_lookup(container, element)[0]
    raise no_overload("in", element, container)


def no_such_key(key: Any) -> DslEvalError:
    return DslEvalError(f"no such key: {shown(key)}", code="DSL_NO_SUCH_KEY")


def select(value: Any, field: str) -> Any:
    """`value.field` on a map; on an optional it stays optional (`optional.of(m).f`)."""
    if type(value) is dict or isinstance(value, Mapping):
        try:
            return value[field]
        except KeyError:
            raise no_such_key(field) from None
    if type(value) is Optional:
        return optional_select(value, field)
    raise _no_fields(value, field)


def _no_fields(value: Any, field: str) -> DslEvalError:
    return DslEvalError(
        f"type '{type_name(value)}' does not support field selection (selecting '{field}')",
        code="DSL_NO_MATCHING_OVERLOAD",
    )


def has(value: Any, field: str) -> bool:
    """`has(value.field)`: presence of a key in a map."""
    if type(value) is dict or isinstance(value, Mapping):
        return field in value
    if type(value) is Optional:
        return value.has_value and has(value.value, field)
    raise _no_fields(value, field)


def optional_select(value: Any, field: str) -> Optional:
    """`value.?field`: optional.of(the field) when present, optional.none() otherwise."""
    if type(value) is Optional:
        if not value.has_value:
            return value
        value = value.value
    if isinstance(value, Mapping):
        return Optional.of(value[field]) if field in value else Optional.none()
    raise _no_fields(value, field)


def _list_position(items: list, key: Any) -> int:
    kind = type(key)
    if kind is float:
        if not key.is_integer():
            raise DslEvalError(f"list index {key} is not a whole number", code="DSL_INVALID_ARGUMENT")
        key = int(key)
    elif kind is not int and kind is not UInt:
        raise DslEvalError(f"a list index must be a number, not {type_name(key)}", code="DSL_INVALID_ARGUMENT")
    return key


def index(container: Any, key: Any) -> Any:
    """`container[key]` on a list (int, uint or whole double index) or a map."""
    if type(container) is list:
        position = _list_position(container, key)
        if 0 <= position < len(container):
            return container[position]
        raise DslEvalError(
            f"index {position} out of range for a list of size {len(container)}", code="DSL_INVALID_ARGUMENT"
        )
    if isinstance(container, Mapping):
        found, value = map_lookup(container, key)
        if found:
            return value
        raise no_such_key(key)
    if type(container) is Optional:
        return optional_index(container, key)
    raise no_overload("[]", container, key)


def optional_index(container: Any, key: Any) -> Optional:
    """`container[?key]`: optional.of(the element) when present, optional.none() otherwise."""
    if type(container) is Optional:
        if not container.has_value:
            return container
        container = container.value
    if type(container) is list:
        position = _list_position(container, key)
        return Optional.of(container[position]) if 0 <= position < len(container) else Optional.none()
    if isinstance(container, Mapping):
        found, value = map_lookup(container, key)
        return Optional.of(value) if found else Optional.none()
    raise no_overload("[?]", container, key)


def map_key(key: Any) -> Any:
    """A map literal's key must be an int, uint, bool or string."""
    if type(key) in (int, UInt, bool, str):
        return key
    raise DslEvalError(f"unsupported map key type {type_name(key)}", code="DSL_INVALID_ARGUMENT")


def build_map(pairs: list[tuple[Any, Any]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        map_key(key)
        if map_lookup(result, key)[0]:
            raise DslEvalError(f"repeated map key {shown(key)}", code="DSL_INVALID_ARGUMENT")
        if key in result:
            # Python hashes true as 1 and false as 0: one dict cannot hold both kinds of key.
            raise DslEvalError("a map cannot mix the bool keys true/false with the numbers 1/0",
                               code="DSL_INVALID_ARGUMENT")  # fmt: skip
        result[key] = value
    return check_length(result)


def truth(value: Any, operator: str) -> NoReturn:
    """The error for a non-bool operand of `&&`, `||`, `!` or `?:`."""
    raise no_overload(operator, value)
