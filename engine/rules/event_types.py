"""Declared event types (a bundle's `events:`) as CEL types, and `event_data` checked against them.

    events:
      purchase: {amount: double, category: string, coupon: {type: string, optional: true}}
      refund:   {amount: double, items: {type: list, items: {sku: string, qty: double}}}

A field's type is a name or an object with `type` (and `items` for a list, `fields` for a map
with known keys, `values` for a map with one value type, `optional: true` for a field an event
may leave out). Names: `double` (also `number`: every JSON number is a double, D7), `string`,
`bool` (`boolean`), `timestamp`, `list` (`array`), `map` (`object`), `any`. Every declared type
has a `type` field of type string besides its own.

    >>> types, problems = declared_event_types({"purchase": {"amount": "double"}})
    >>> str(types["purchase"].fields["amount"]), problems
    ('double', [])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dsl.suggest import nearest
from dsl.types import BOOL, DOUBLE, DYN, STRING, TIMESTAMP, CelType, list_of, map_of, object_type

Path = tuple[str | int, ...]
TYPE_NAMES: dict[str, CelType] = {
    "double": DOUBLE,
    "number": DOUBLE,
    "string": STRING,
    "bool": BOOL,
    "boolean": BOOL,
    "timestamp": TIMESTAMP,
    "any": DYN,
}
CONTAINERS = {"list": "list", "array": "list", "map": "map", "object": "map"}
TYPE_KEYS = frozenset({"type", "items", "fields", "values", "optional", "description"})


@dataclass(frozen=True)
class DeclarationProblem:
    path: Path  # inside `events`
    code: str
    message: str


@dataclass(frozen=True)
class EventShape:
    """One declared event type: its CEL type and which fields an event must have."""

    type: CelType
    required: frozenset[str]


def declared_event_types(
    events: Mapping[str, Mapping[str, Any]],
) -> tuple[dict[str, CelType], list[DeclarationProblem]]:
    """The CEL type of each declared event type, and every problem of the declarations."""
    shapes, problems = declared_shapes(events)
    return {name: shape.type for name, shape in shapes.items()}, problems


def declared_shapes(events: Mapping[str, Mapping[str, Any]]) -> tuple[dict[str, EventShape], list[DeclarationProblem]]:
    problems: list[DeclarationProblem] = []
    shapes = {}
    for name, fields in events.items():
        reader = _Reader(problems)
        declared = {key: reader.field((name, key), spec) for key, spec in fields.items()}
        required = frozenset(key for key, spec in fields.items() if not _optional(spec))
        declared.setdefault("type", STRING)
        shapes[name] = EventShape(object_type(f"event '{name}'", declared), required)
    return shapes, problems


def _optional(spec: Any) -> bool:
    return isinstance(spec, dict) and spec.get("optional") is True


class _Reader:
    def __init__(self, problems: list[DeclarationProblem]) -> None:
        self.problems = problems

    def fail(self, path: Path, code: str, message: str) -> CelType:
        self.problems.append(DeclarationProblem(path, code, message))
        return DYN

    def field(self, path: Path, spec: Any) -> CelType:
        if isinstance(spec, str):
            return self.named(path, spec, {})
        if not isinstance(spec, dict):
            return self.fail(path, "invalid_event_type", "a field type is a name (double, string, ...) or an object")
        unknown = sorted(set(spec) - TYPE_KEYS)
        for key in unknown:
            hint = nearest(key, TYPE_KEYS)
            self.fail(
                (*path, key), "unknown_field", f"unknown key '{key}'" + (f"; did you mean '{hint}'?" if hint else "")
            )
        if "type" not in spec:
            return self.fail(path, "invalid_event_type", "a field type object needs `type`")
        if not isinstance(spec["type"], str):
            return self.fail((*path, "type"), "invalid_event_type", "`type` is a name (double, string, list, ...)")
        if "optional" in spec and not isinstance(spec["optional"], bool):
            self.fail((*path, "optional"), "invalid_event_type", "`optional` is true or false")
        return self.named((*path, "type"), spec["type"], spec, path)

    def named(self, path: Path, name: str, spec: dict[str, Any], at: Path | None = None) -> CelType:
        at = at or path
        simple = TYPE_NAMES.get(name)
        if simple is not None:
            return simple
        container = CONTAINERS.get(name)
        if container == "list":
            items = spec.get("items")
            return list_of(DYN if items is None else self.element((*at, "items"), items))
        if container == "map":
            fields, values = spec.get("fields"), spec.get("values")
            if isinstance(fields, dict):
                declared = {key: self.field((*at, "fields", key), value) for key, value in fields.items()}
                return object_type(f"map field '{at[-1]}'", declared)
            if fields is not None:
                return self.fail((*at, "fields"), "invalid_event_type", "`fields` maps field names to types")
            return map_of(STRING, DYN if values is None else self.element((*at, "values"), values))
        known = ", ".join(sorted({*TYPE_NAMES, *CONTAINERS}))
        hint = nearest(name, [*TYPE_NAMES, *CONTAINERS])
        return self.fail(
            path,
            "unknown_event_type",
            f"unknown type '{name}' (known: {known})" + (f"; did you mean '{hint}'?" if hint else ""),
        )

    def element(self, path: Path, spec: Any) -> CelType:
        """A list's items or a map's values: a type, or a map of field names to types (an object)."""
        if isinstance(spec, dict) and "type" not in spec:
            return object_type(
                f"element of '{path[-2]}'", {key: self.field((*path, key), v) for key, v in spec.items()}
            )
        return self.field(path, spec)


def event_data_problems(data: Any, shapes: Mapping[str, EventShape]) -> list[str]:
    """What is wrong with `event_data` for its declared type (ingest's optional validation):
    an undeclared `type`, a missing required field, a value of another type. Fields that are not
    declared are allowed (an event may carry more than rules read)."""
    if not isinstance(data, dict):
        return ["event_data must be an object"]
    name = data.get("type")
    shape = shapes.get(name) if isinstance(name, str) else None
    if shape is None:
        hint = nearest(str(name), shapes) if isinstance(name, str) else None
        return [f"event type {name!r} is not declared" + (f"; did you mean '{hint}'?" if hint else "")]
    problems = [f"{field}: required" for field in sorted(shape.required) if field not in data]
    for field, value in data.items():
        expected = shape.type.fields.get(field)
        if expected is not None:
            problems += _value_problems(field, value, expected)
    return problems


def _value_problems(path: str, value: Any, expected: CelType) -> list[str]:
    kind = expected.kind
    checks = {
        "double": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "string": lambda v: isinstance(v, str),
        "bool": lambda v: isinstance(v, bool),
        "timestamp": lambda v: isinstance(v, str),
        "list": lambda v: isinstance(v, list),
        "map": lambda v: isinstance(v, dict),
        "object": lambda v: isinstance(v, dict),
    }
    check = checks.get(kind)
    if check is None:
        return []
    if not check(value):
        return [f"{path}: expected {expected}, got {type(value).__name__}"]
    if kind == "list" and expected.elem is not None and expected.elem.known:
        return [p for i, item in enumerate(value) for p in _value_problems(f"{path}[{i}]", item, expected.elem)]
    if kind == "object":
        return [
            p
            for key, item in value.items()
            if key in expected.fields
            for p in _value_problems(f"{path}.{key}", item, expected.fields[key])
        ]
    return []
