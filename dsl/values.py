"""CEL values as Python values, and the equality every part of the language shares.

CEL type    Python
int         int (never bool)          uint       UInt (an int subclass)
double      float                     bool       bool
string      str                       bytes      bytes
null_type   None                      list       list
map         dict                      timestamp  tz-aware datetime.datetime
duration    datetime.timedelta        optional   Optional (this module)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from dsl.limits import SMALL_TEXT, Budget, compare_units


class UInt(int):
    """A CEL `uint`: an int subclass so arithmetic and comparison stay cheap."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self)}u"


class Optional:
    """A CEL optional value (`optional.of(x)`, `optional.none()`, `a.?b`)."""

    __slots__ = ("has_value", "value")

    def __init__(self, value: Any = None, has_value: bool = False) -> None:
        self.value, self.has_value = value, has_value

    @classmethod
    def of(cls, value: Any) -> Optional:
        return cls(value, True)

    @classmethod
    def none(cls) -> Optional:
        return _NONE

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Optional):
            return NotImplemented
        if self.has_value != other.has_value:
            return False
        return not self.has_value or cel_equals(self.value, other.value)

    def __hash__(self) -> int:
        return hash(self.has_value)

    def __repr__(self) -> str:
        return f"optional.of({self.value!r})" if self.has_value else "optional.none()"


_NONE = Optional()


class CelType:
    """A CEL type value, as `type(x)` returns and the identifiers `int`, `string`, ... denote.

    >>> CelType("int") == CelType("int")
    True
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CelType) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("CelType", self.name))

    def __repr__(self) -> str:
        return self.name


_TYPE_NAMES: dict[type, str] = {
    bool: "bool",
    int: "int",
    UInt: "uint",
    float: "double",
    str: "string",
    bytes: "bytes",
    type(None): "null_type",
    list: "list",
    dict: "map",
    datetime: "google.protobuf.Timestamp",
    timedelta: "google.protobuf.Duration",
    Optional: "optional_type",
    CelType: "type",
}

# The names that denote a type value when no variable of that name is bound.
TYPE_NAMES = frozenset(_TYPE_NAMES.values())


def type_name(value: Any) -> str:
    """The CEL type name of a value, as error messages and `type()` spell it."""
    name = _TYPE_NAMES.get(type(value))
    if name is not None:
        return name
    for base, base_name in _TYPE_NAMES.items():
        if isinstance(value, base):
            return base_name
    return type(value).__name__


_NUMERIC = (int, UInt, float)
_SCALARS = (str, int, float, bytes, UInt, type(None))


def cel_equals(a: Any, b: Any, budget: Budget | None = None) -> bool:
    """CEL heterogeneous equality: numbers compare by value across int, uint and double; values of
    different kinds are unequal (never an error); lists and maps compare element-wise, each
    element visited charged to `budget` (a budget of its own when None: one comparison of shared
    sub-lists can visit far more elements than any value holds)."""
    ta, tb = type(a), type(b)
    if ta is tb and ta in _SCALARS:
        return a == b
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta in _NUMERIC and tb in _NUMERIC:
        return a == b
    if (ta is list and tb is list) or (ta is dict and tb is dict) or (ta is Optional and tb is Optional):
        return _composite_equals(a, b, budget if budget is not None else Budget())
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a == b
    if ta is timedelta and tb is timedelta:
        return a == b
    if ta is CelType and tb is CelType:
        return a == b
    return False


def _composite_equals(a: Any, b: Any, budget: Budget) -> bool:
    """Lists, maps and optionals of the same kind, element by element. No shortcut for `a is b`:
    a list holding NaN is not equal to itself."""
    if type(a) is Optional:
        if a.has_value != b.has_value:
            return False
        return not a.has_value or cel_equals(a.value, b.value, budget)
    if len(a) != len(b):
        return False
    budget.charge(2 * len(a) + 2)
    if type(a) is list:
        for x, y in zip(a, b, strict=True):
            if (type(x) is str or type(x) is bytes) and len(x) > SMALL_TEXT and type(y) is type(x):
                budget.charge(compare_units(1, len(x)))
            if not cel_equals(x, y, budget):
                return False
        return True
    for key, value in a.items():
        found, other = map_lookup(b, key)
        if not found:
            return False
        if (type(value) is str or type(value) is bytes) and len(value) > SMALL_TEXT and type(other) is type(value):
            budget.charge(compare_units(1, len(value)))
        if not cel_equals(value, other, budget):
            return False
    return True


class _KeyProbe:
    """Stands in for a key in one dict lookup and keeps the stored key the dict compared it
    with: the dict's own comparison finds it in constant time, where a scan of the keys would
    take as long as the map is large."""

    __slots__ = ("hash", "key", "stored")

    def __init__(self, key: Any) -> None:
        self.key, self.hash = key, hash(key)
        self.stored: object = None

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        # The stored key's own comparison declines a foreign type, so Python asks this one.
        if other == self.key:
            self.stored = other
            return True
        return False


def map_lookup(mapping: Mapping[Any, Any], key: Any) -> tuple[bool, Any]:
    """Find `key` in a CEL map with heterogeneous numeric keys (1, 1u and 1.0 find the same entry)
    while keeping bool keys apart from the ints Python hashes them equal to."""
    try:
        value = mapping[key]
    except (KeyError, TypeError):
        return False, None
    if (type(key) is bool) or (key == 0 or key == 1):
        # Python treats True as 1 and False as 0, and a dict holds one key of the two: the stored
        # key must be of the same kind as the one asked for.
        key_is_bool = type(key) is bool
        if type(mapping) is dict:
            probe = _KeyProbe(key)
            if probe in mapping and (type(probe.stored) is bool) == key_is_bool:
                return True, value
            return False, None
        for stored in mapping:
            if (type(stored) is bool) == key_is_bool and stored == key:
                return True, mapping[stored]
        return False, None
    return True, value
