"""The CEL sets extension: `sets.contains`, `sets.intersects`, `sets.equivalent` on lists, with
CEL equality (1, 1u and 1.0 are the same element; true is not 1).

Scalars are compared through a hash set, so the cost is linear; lists, maps and other composite
elements fall back to pairwise `cel_equals`. Both are charged to the evaluation budget.
"""

from __future__ import annotations

import math
from typing import Any

from dsl.functions.registry import Function, function, no_overload
from dsl.limits import SMALL_TEXT, Budget, text_units
from dsl.values import cel_equals

_NUMBERS = (int, float)


def equality_key(value: Any) -> tuple[str, Any] | None:
    """A hashable stand-in that is equal exactly when CEL equality holds, or None when the
    value must be compared pairwise."""
    kind = type(value)
    if kind is bool:
        return ("bool", value)
    if isinstance(value, _NUMBERS):  # int, UInt and float hash alike for equal values
        if kind is float and math.isnan(value):
            return None
        return ("number", value)
    if kind is str or kind is bytes or value is None:
        return (kind.__name__, value)
    return None


class _Members:
    """The elements of one list, ready for repeated membership tests."""

    __slots__ = ("keys", "others")

    def __init__(self, budget: Budget, items: list[Any]) -> None:
        self.keys: set[tuple[str, Any]] = set()
        self.others: list[Any] = []
        budget.charge(4 * len(items))  # each one's key made, in Python
        for item in items:
            _charge_text(budget, item)
            key = equality_key(item)
            if key is None:
                self.others.append(item)
            else:
                self.keys.add(key)

    def has(self, budget: Budget, value: Any) -> bool:
        budget.charge(2)
        key = equality_key(value)
        if key is not None:
            _charge_text(budget, value)
            return key in self.keys
        budget.charge(4 * len(self.others))  # compared one by one, in Python
        return any(cel_equals(value, other, budget) for other in self.others)


def _charge_text(budget: Budget, value: Any) -> None:
    """A long text is hashed, then compared with an equal hash: charged by its length."""
    if (type(value) is str or type(value) is bytes) and len(value) > SMALL_TEXT:
        budget.charge(text_units(len(value)))


def _lists(name: str, budget: Budget, a: Any, b: Any) -> None:
    if type(a) is not list or type(b) is not list:
        raise no_overload(name, a, b)
    budget.charge(len(a) + len(b))


def contains(budget: Budget, items: Any, subset: Any) -> bool:
    """`sets.contains([1, 2, 3], [3, 1.0])` is true: every element of the second is in the first."""
    _lists("sets.contains", budget, items, subset)
    members = _Members(budget, items)
    return all(members.has(budget, value) for value in subset)


def intersects(budget: Budget, a: Any, b: Any) -> bool:
    """`sets.intersects([1, 2], [2u, 5])` is true: the lists share at least one element."""
    _lists("sets.intersects", budget, a, b)
    members = _Members(budget, a)
    return any(members.has(budget, value) for value in b)


def equivalent(budget: Budget, a: Any, b: Any) -> bool:
    """`sets.equivalent([1, 2, 2], [2u, 1.0])` is true: same elements, ignoring order and repeats."""
    return contains(budget, a, b) and contains(budget, b, a)


FUNCTIONS: tuple[Function, ...] = (
    function("sets.contains", contains, 2, budget=True),
    function("sets.intersects", intersects, 2, budget=True),
    function("sets.equivalent", equivalent, 2, budget=True),
)
