"""The standard CEL functions on strings and collections: size, contains, startsWith, endsWith,
matches, plus dyn and type. The searches charge the evaluation's budget by the length they scan
(`dsl.limits`)."""

from __future__ import annotations

from typing import Any

from dsl.functions.registry import Function, function, method, no_overload
from dsl.limits import SMALL_TEXT, Budget, text_units
from dsl.regex import regex_matches
from dsl.values import CelType, type_name

_SIZED = frozenset({str, bytes, list, dict})


def size(value: Any) -> int:
    """Code points of a string, bytes of bytes, elements of a list or map: `size('ÿ')` is 1."""
    if type(value) in _SIZED:
        return len(value)
    raise no_overload("size", value)


def contains(budget: Budget, text: Any, part: Any) -> bool:
    """`'hello'.contains('ell')` is true."""
    if type(text) is str and type(part) is str:
        if len(text) > SMALL_TEXT:
            budget.charge(text_units(len(text) + len(part)))
        return part in text
    raise no_overload("contains", text, part)


def starts_with(budget: Budget, text: Any, prefix: Any) -> bool:
    if type(text) is str and type(prefix) is str:
        if len(prefix) > SMALL_TEXT:
            budget.charge(text_units(len(prefix)))
        return text.startswith(prefix)
    raise no_overload("startsWith", text, prefix)


def ends_with(budget: Budget, text: Any, suffix: Any) -> bool:
    if type(text) is str and type(suffix) is str:
        if len(suffix) > SMALL_TEXT:
            budget.charge(text_units(len(suffix)))
        return text.endswith(suffix)
    raise no_overload("endsWith", text, suffix)


def matches(budget: Budget, text: Any, pattern: Any) -> bool:
    """RE2 search anywhere in the string: `'grey'.matches('gr(a|e)y')` is true."""
    if type(text) is str and type(pattern) is str:
        return regex_matches(text, pattern, budget)
    raise no_overload("matches", text, pattern)


def dyn(value: Any) -> Any:
    """The identity; only the type checker of other CEL implementations sees it."""
    return value


def type_of(value: Any) -> CelType:
    """The type of a value as a value: `type(1) == int`, `type([]) == list`."""
    return CelType(type_name(value))


FUNCTIONS: tuple[Function, ...] = (
    function("size", size, 1),
    method("size", size, 0),
    method("contains", contains, 1, budget=True),
    method("startsWith", starts_with, 1, budget=True),
    method("endsWith", ends_with, 1, budget=True),
    function("matches", matches, 2, budget=True, cost=10),
    method("matches", matches, 1, budget=True, cost=10),
    function("dyn", dyn, 1),
    function("type", type_of, 1),
)
