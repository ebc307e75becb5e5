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


def cel_equals(a: Any, b: Any) -> bool:
    """CEL heterogeneous equality: numbers compare by value across int, uint and double; values of
    different kinds are unequal (never an error); lists and maps compare element-wise."""
    ta, tb = type(a), type(b)
    if ta is tb and ta in (str, int, float, bytes, UInt, type(None)):
        return a == b
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta in _NUMERIC and tb in _NUMERIC:
        return a == b
    if ta is list and tb is list:
        return len(a) == len(b) and all(map(cel_equals, a, b))
    if ta is dict and tb is dict:
        if len(a) != len(b):
            return False
        for key, value in a.items():
            found, other = map_lookup(b, key)
            if not found or not cel_equals(value, other):
                return False
        return True
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a == b
    if ta is timedelta and tb is timedelta:
        return a == b
    if ta is Optional and tb is Optional:
        return a == b
    if ta is CelType and tb is CelType:
        return a == b
    return False


def map_lookup(mapping: Mapping[Any, Any], key: Any) -> tuple[bool, Any]:
    """Find `key` in a CEL map with heterogeneous numeric keys (1, 1u and 1.0 find the same entry)
    while keeping bool keys apart from the ints Python hashes them equal to."""
    try:
        value = mapping[key]
    except (KeyError, TypeError):
        return False, None
    if (type(key) is bool) or (key == 0 or key == 1):
        # Python treats True as 1 and False as 0: the stored key must be of the same kind.
        key_is_bool = type(key) is bool
        for stored in mapping:
            if (type(stored) is bool) == key_is_bool and stored == key:
                return True, mapping[stored]
        return False, None
    return True, value
