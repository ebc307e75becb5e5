"""Basics of the CEL lists extension: `slice`, `flatten`, `lists.range`, `distinct`, `sort`,
`first`, `last`.

`reverse` lives with the string extension's `reverse` (one method serves both types) and `join`
with the strings.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dsl.functions.registry import Function, function, invalid_argument, method, no_overload
from dsl.functions.sets import equality_key
from dsl.limits import SMALL_TEXT, Budget, check_length, compare_units, element_units, text_units
from dsl.values import Optional, UInt, cel_equals

# Kinds whose elements order among themselves; int, uint and double order together by value.
_ORDER_KINDS = {int: "number", UInt: "number", float: "number", str: "string", bytes: "bytes",
                bool: "bool", timedelta: "duration", datetime: "timestamp"}  # fmt: skip


def slice_list(budget: Budget, items: Any, start: Any, end: Any) -> list[Any]:
    """`[1, 2, 3, 4].slice(1, 3)` is [2, 3]."""
    if type(items) is not list or type(start) is not int or type(end) is not int:
        raise no_overload("slice", items, start, end)
    if start < 0 or end < 0:
        raise invalid_argument(f"cannot slice({start}, {end}), negative indexes not supported")
    if start > end:
        raise invalid_argument(f"cannot slice({start}, {end}), the start index is after the end index")
    if end > len(items):
        raise invalid_argument(f"cannot slice({start}, {end}), list is length {len(items)}")
    budget.charge(element_units(end - start))
    return items[start:end]


def flatten(budget: Budget, items: Any, depth: Any = 1) -> list[Any]:
    """`[1, [2, [3]]].flatten()` is [1, 2, [3]]; `.flatten(2)` is [1, 2, 3]."""
    if type(items) is not list or type(depth) is not int:
        raise no_overload("flatten", items, depth)
    if depth < 0:
        raise invalid_argument("level must be non-negative")
    flat = items
    for _ in range(depth):
        if not any(type(item) is list for item in flat):
            break
        budget.charge(len(flat))
        next_level: list[Any] = []
        for item in flat:
            if type(item) is list:
                next_level.extend(item)
            else:
                next_level.append(item)
        flat = check_length(next_level)
    return flat


def range_list(budget: Budget, count: Any) -> list[int]:
    """`lists.range(3)` is [0, 1, 2]."""
    if type(count) is not int:
        raise no_overload("lists.range", count)
    if count < 0:
        raise invalid_argument(f"lists.range({count}): the count must not be negative")
    check_length(range(count))
    budget.charge(count)
    return list(range(count))


def distinct(budget: Budget, items: Any) -> list[Any]:
    """`[1, 2.0, 1u, 'a'].distinct()` is [1, 2.0, 'a'] (CEL equality, first occurrence kept)."""
    if type(items) is not list:
        raise no_overload("distinct", items)
    budget.charge(4 * len(items))  # each one's key made and looked up, in Python
    kept: list[Any] = []
    seen_keys: set[tuple[str, Any]] = set()
    seen_others: list[Any] = []  # composite values, compared pairwise
    for item in items:
        key = equality_key(item)
        if key is not None:
            if (type(item) is str or type(item) is bytes) and len(item) > SMALL_TEXT:
                budget.charge(text_units(len(item)))  # hashed, and compared with an equal hash
            if key not in seen_keys:
                seen_keys.add(key)
                kept.append(item)
            continue
        budget.charge(4 * len(seen_others))  # compared one by one, in Python
        if not any(cel_equals(item, other, budget) for other in seen_others):
            seen_others.append(item)
            kept.append(item)
    return kept


def sort_list(budget: Budget, items: Any) -> list[Any]:
    """`[3, 1.5, 2u].sort()` is [1.5, 2u, 3]; the elements must be of one orderable kind."""
    if type(items) is not list:
        raise no_overload("sort", items)
    budget.charge(len(items) // 2 + 1)  # the kinds, found in Python
    kinds = {_ORDER_KINDS.get(type(item)) for item in items}
    if None in kinds or len(kinds) > 1:
        raise no_overload("sort", items)
    comparisons = len(items) * max(len(items).bit_length(), 1)
    longest = max(map(len, items)) if kinds in ({"string"}, {"bytes"}) else 0
    budget.charge(compare_units(comparisons, longest))
    return sorted(items)


def first(items: Any) -> Optional:
    """`[1, 2].first()` is optional.of(1); `[].first()` is optional.none()."""
    if type(items) is not list:
        raise no_overload("first", items)
    return Optional.of(items[0]) if items else Optional.none()


def last(items: Any) -> Optional:
    """`[1, 2].last()` is optional.of(2)."""
    if type(items) is not list:
        raise no_overload("last", items)
    return Optional.of(items[-1]) if items else Optional.none()


FUNCTIONS: tuple[Function, ...] = (
    method("slice", slice_list, 2, budget=True),
    method("flatten", flatten, 0, 1, budget=True),
    function("lists.range", range_list, 1, budget=True),
    method("distinct", distinct, 0, budget=True),
    method("sort", sort_list, 0, budget=True),
    method("first", first, 0),
    method("last", last, 0),
)
