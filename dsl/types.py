"""Static types of the rule language, for the type-inference pass (`dsl.typecheck`).

A `CelType` is a kind (`int`, `double`, `string`, ..., `list`, `map`, `object`, `dyn`) with the
parts the kind needs: a list's element, a map's key and value, an object's known fields. `dyn` is
a value whose type is not known until run time; nothing about it is reported.

    >>> shape = object_type("event", {"amount": DOUBLE})
    >>> shape.fields["amount"].kind
    'double'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

NUMERIC = frozenset({"int", "uint", "double"})


@dataclass(frozen=True)
class CelType:
    kind: str
    elem: CelType | None = None  # a list's element, a map's value
    key: CelType | None = None  # a map's key
    fields: Mapping[str, CelType] = field(default_factory=lambda: MappingProxyType({}))
    name: str = ""  # an object's name, as messages say it ("participant", "event 'purchase'")

    def __str__(self) -> str:
        if self.kind == "list":
            return f"list({self.elem})"
        if self.kind == "map":
            return f"map({self.key}, {self.elem})"
        if self.kind == "object":
            return self.name or "object"
        return self.kind

    @property
    def known(self) -> bool:
        return self.kind != "dyn"


DYN = CelType("dyn")
INT, UINT, DOUBLE = CelType("int"), CelType("uint"), CelType("double")
BOOL, STRING, BYTES, NULL = CelType("bool"), CelType("string"), CelType("bytes"), CelType("null_type")
TIMESTAMP, DURATION = CelType("timestamp"), CelType("duration")


def list_of(elem: CelType) -> CelType:
    return CelType("list", elem=elem)


def map_of(key: CelType, value: CelType) -> CelType:
    return CelType("map", elem=value, key=key)


def object_type(name: str, fields: Mapping[str, CelType]) -> CelType:
    """A map whose keys are known (a closed shape): reading another key is a type error."""
    return CelType("object", fields=MappingProxyType(dict(fields)), name=name)


def same(a: CelType, b: CelType) -> CelType:
    """The type both of `a` and `b` are, or dyn."""
    return a if a == b else DYN


def element(container: CelType) -> CelType:
    """What iterating `container` yields (a list's elements, a map's keys)."""
    if container.kind == "list" and container.elem is not None:
        return container.elem
    if container.kind == "map" and container.key is not None:
        return container.key
    if container.kind == "object":
        return STRING
    return DYN


def value_of(container: CelType) -> CelType:
    """What indexing `container` yields."""
    if container.kind in ("list", "map") and container.elem is not None:
        return container.elem
    return DYN


def literal_type(kind_name: str) -> CelType:
    """The type of a literal, from `dsl.values.type_name` of its value."""
    return {
        "int": INT,
        "uint": UINT,
        "double": DOUBLE,
        "bool": BOOL,
        "string": STRING,
        "bytes": BYTES,
        "null_type": NULL,
    }.get(kind_name, DYN)


# What the built-ins return, and which receivers their methods take (the rest are dyn).
STRING_METHODS = {
    "contains": BOOL,
    "startsWith": BOOL,
    "endsWith": BOOL,
    "matches": BOOL,
    "lowerAscii": STRING,
    "upperAscii": STRING,
    "trim": STRING,
    "replace": STRING,
    "substring": STRING,
    "charAt": STRING,
    "indexOf": INT,
    "lastIndexOf": INT,
    "split": list_of(STRING),
}
TIMESTAMP_ACCESSORS = frozenset(
    {
        "getFullYear",
        "getMonth",
        "getDate",
        "getDayOfMonth",
        "getDayOfWeek",
        "getDayOfYear",
        "getHours",
        "getMinutes",
        "getSeconds",
        "getMilliseconds",
    }
)
GLOBAL_RESULTS = {
    "size": INT,
    "int": INT,
    "uint": CelType("uint"),
    "double": DOUBLE,
    "string": STRING,
    "bytes": BYTES,
    "bool": BOOL,
    "timestamp": TIMESTAMP,
    "duration": DURATION,
    "round": DOUBLE,
    "math.ceil": DOUBLE,
    "math.floor": DOUBLE,
    "math.round": DOUBLE,
    "math.trunc": DOUBLE,
    "sets.contains": BOOL,
    "sets.intersects": BOOL,
    "sets.equivalent": BOOL,
    "matches": BOOL,
}
