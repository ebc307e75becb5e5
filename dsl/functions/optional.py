"""Optional values: `optional.of`, `optional.none`, `optional.ofNonZeroValue`, and the methods
`hasValue`, `value`, `orValue`, `or`. (The `?.` / `[?` selections and `optMap` / `optFlatMap`
belong to the compiler.)"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dsl.errors import DslEvalError
from dsl.functions.registry import Function, function, method, no_overload
from dsl.temporal import EPOCH
from dsl.values import Optional

_ZERO_TIMESTAMP = EPOCH  # protobuf's default Timestamp


def of(value: Any) -> Optional:
    """`optional.of(1).value()` is 1."""
    return Optional.of(value)


def none() -> Optional:
    return Optional.none()


def _is_zero(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (bool, int, float, str, bytes, list, dict)):
        return not value
    if type(value) is timedelta:
        return value == timedelta(0)
    if isinstance(value, datetime):
        return value == _ZERO_TIMESTAMP
    return False


def of_non_zero_value(value: Any) -> Optional:
    """`optional.ofNonZeroValue('')` is optional.none(); `optional.ofNonZeroValue(5)` holds 5."""
    return Optional.none() if _is_zero(value) else Optional.of(value)


def _optional(name: str, value: Any, *rest: Any) -> Optional:
    if type(value) is not Optional:
        raise no_overload(name, value, *rest)
    return value


def has_value(value: Any) -> bool:
    return _optional("hasValue", value).has_value


def get_value(value: Any) -> Any:
    """The held value; an empty optional is an error."""
    held = _optional("value", value)
    if not held.has_value:
        raise DslEvalError("optional.none() has no value", code="DSL_INVALID_ARGUMENT")
    return held.value


def or_value(value: Any, default: Any) -> Any:
    """`optional.none().orValue(5)` is 5."""
    held = _optional("orValue", value, default)
    return held.value if held.has_value else default


def or_optional(value: Any, other: Any) -> Optional:
    """`optional.none().or(optional.of(2))` is optional.of(2)."""
    held = _optional("or", value, other)
    if held.has_value:
        return held
    return _optional("or", other, value)


FUNCTIONS: tuple[Function, ...] = (
    function("optional.of", of, 1),
    function("optional.none", none, 0),
    function("optional.ofNonZeroValue", of_non_zero_value, 1),
    method("hasValue", has_value, 0),
    method("value", get_value, 0),
    method("orValue", or_value, 1),
    method("or", or_optional, 1),
)
