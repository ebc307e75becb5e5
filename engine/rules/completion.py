"""Completion and hover for a bundle being typed: bundle keys from the bundle's JSON Schema, and
in CEL fields the variables, macros and functions (`dsl.reference`) and the fields of sample
events. Both the playground and `accrual lsp` ask here, so an author sees the same suggestions in
the browser and in their editor.

    >>> [item.label for item in complete("rules:\\n- condition: event.ty", 1, 22, events=[{"type": "x"}]).items]
    ['type']

Lines and characters are 0-based. Nothing here evaluates a rule.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dsl.reference import FUNCTIONS, MACROS, METHODS, VARIABLES, Entry, lookup
from engine.model.bundle import bundle_json_schema
from engine.rules.yaml_context import ITEM, Place, place_at

__all__ = ["Completion", "Hover", "Item", "complete", "hover"]

_ENTITY_FIELDS = {
    "id": "string",
    "external_id": "string",
    "status": "string",
    "tags": "list of strings",
    "counters": "map of doubles",
    "attributes": "map of strings",
    "tiers": "map of {level, rank}",
}
_PROGRAM_FIELDS = {"tags": "list of strings", "counters": "map of doubles", "attributes": "map of strings"}
_NAMESPACES = sorted({name.split(".")[0] for name in (*FUNCTIONS, *MACROS) if "." in name})
_CHAIN = re.compile(r"(?P<chain>(?:[A-Za-z_]\w*\.)*)(?P<word>[A-Za-z_]\w*)?$")
_WORD = re.compile(r"[A-Za-z_][\w]*")


@dataclass(frozen=True)
class Item:
    label: str
    kind: str  # key | value | variable | field | function | method | macro | namespace
    detail: str = ""
    documentation: str = ""


@dataclass(frozen=True)
class Completion:
    start: int  # the character where the replaced word starts on the cursor's line
    items: list[Item] = field(default_factory=list)


@dataclass(frozen=True)
class Hover:
    start: int
    end: int
    markdown: str


def complete(text: str, line: int, character: int, *, events: Iterable[Mapping[str, Any]] = ()) -> Completion:
    """What may be typed at the cursor; `events` are sample event data (the playground's event
    pane, a bundle's test cases) whose fields `event.` offers."""
    place = place_at(text, line, character)
    if place.kind == "key":
        return Completion(place.word_start, _keys(place))
    if place.kind == "value":
        return Completion(place.word_start, _values(place))
    if place.kind == "cel":
        return _cel(place, list(events))
    return Completion(character)


def hover(text: str, line: int, character: int) -> Hover | None:
    """Documentation for the name under the cursor: a CEL function, macro or variable, or a
    bundle key with its type."""
    lines = text.split("\n")
    if not 0 <= line < len(lines):
        return None
    for match in _WORD.finditer(lines[line]):
        if match.start() <= character <= match.end():
            break
    else:
        return None
    place = place_at(text, line, match.end())
    word, start, end = match.group(), match.start(), match.end()
    if place.kind == "cel":
        entry = _entry_at(lines[line], start, end, word)
        return Hover(start, end, entry.markdown()) if entry else None
    if place.kind == "key" or (place.kind in ("value", "other") and lines[line][end:].lstrip().startswith(":")):
        path = place.path if place.kind == "key" else place_at(text, line, start).path
        described = _key_description(path, word)
        return Hover(start, end, described) if described else None
    return None


def _entry_at(line: str, start: int, end: int, word: str) -> Entry | None:
    called = line[end:].lstrip().startswith("(")
    qualifier = re.search(r"([A-Za-z_]\w*)\.$", line[:start])
    if qualifier and f"{qualifier.group(1)}.{word}" in {**FUNCTIONS, **MACROS}:
        return lookup(f"{qualifier.group(1)}.{word}")
    if called:
        return lookup(word, method=line[:start].endswith("."))
    return VARIABLES.get(word) if not line[:start].endswith(".") else None


# --- bundle keys --------------------------------------------------------------------------------


@functools.cache
def _schema() -> dict[str, Any]:
    return bundle_json_schema()


def _resolve(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The concrete alternatives of a schema node: `$ref` followed, `anyOf` flattened, nulls dropped."""
    ref = node.get("$ref")
    if isinstance(ref, str):
        return _resolve(_schema()["$defs"][ref.rsplit("/", 1)[-1]])
    if "anyOf" in node:
        return [alt for option in node["anyOf"] for alt in _resolve(option) if alt.get("type") != "null"]
    return [node]


def _nodes_at(path: tuple[str, ...]) -> list[Mapping[str, Any]]:
    nodes = _resolve(_schema())
    for part in path:
        found: list[Mapping[str, Any]] = []
        for node in nodes:
            if part == ITEM and node.get("type") == "array":
                found += _resolve(node.get("items", {}))
            elif part in node.get("properties", {}):
                found += _resolve(node["properties"][part])
            elif isinstance(node.get("additionalProperties"), dict):
                found += _resolve(node["additionalProperties"])
        nodes = found
    return nodes


def _objects(path: tuple[str, ...], siblings: Mapping[str, str]) -> list[Mapping[str, Any]]:
    """The object schemas a mapping at `path` may follow; narrowed by its `type:` when written."""
    objects = [node for node in _nodes_at(path) if "properties" in node]
    kind = siblings.get("type")
    narrowed = [node for node in objects if kind in node["properties"].get("type", {}).get("enum", ())]
    return narrowed or objects


def _type_text(node: Mapping[str, Any]) -> str:
    alternatives = _resolve(node)
    parts = []
    for alt in alternatives:
        if "enum" in alt:
            parts.append(" | ".join(str(value) for value in alt["enum"]))
        else:
            parts.append(str(alt.get("title") or alt.get("type") or "value"))
    return " or ".join(dict.fromkeys(parts)) or "value"


def _keys(place: Place) -> list[Item]:
    items: dict[str, Item] = {}
    for node in _objects(place.path, place.siblings):
        required = set(node.get("required", ()))
        for key, schema in node["properties"].items():
            if key in place.siblings or key in items:
                continue
            detail = _type_text(schema) + (" (required)" if key in required else "")
            items[key] = Item(key, "key", detail, str(node.get("title", "")))
    return list(items.values())


def _values(place: Place) -> list[Item]:
    values: dict[str, Item] = {}
    for node in _objects(place.path, place.siblings):
        schema = node["properties"].get(place.key or "", {})
        for alt in _resolve(schema):
            for value in alt.get("enum", ()):
                values.setdefault(str(value), Item(str(value), "value", place.key or ""))
    return list(values.values())


def _key_description(path: tuple[str, ...], key: str) -> str | None:
    for node in _nodes_at(path):
        schema = node.get("properties", {}).get(key)
        if schema is not None:
            required = " (required)" if key in node.get("required", ()) else ""
            return f"`{key}`: {_type_text(schema)}{required}, in {node.get('title', 'the bundle')}"
    return None


# --- CEL ---------------------------------------------------------------------------------------


def _cel(place: Place, events: list[Mapping[str, Any]]) -> Completion:
    match = _CHAIN.search(place.cel_prefix)
    assert match is not None  # every part of the pattern is optional
    chain = match.group("chain")
    start = place.word_start
    before = place.cel_prefix[: match.start()]
    if not chain:
        # `x.size().` or `"a".`: a method of whatever the receiver is
        return Completion(start, _methods() if before.endswith(".") else _globals())
    receiver = chain[:-1].split(".")
    if before.endswith((")", "]", '"', "'")):
        return Completion(start, _methods())
    return Completion(start, _members(receiver, events) + _methods())


def _globals() -> list[Item]:
    items = [_item(entry) for entry in VARIABLES.values()]
    items += [_item(entry) for name, entry in {**FUNCTIONS, **MACROS}.items() if "." not in name]
    items += [Item(name, "namespace", f"{name}.* functions") for name in _NAMESPACES]
    return items + [Item(word, "keyword") for word in ("true", "false", "null")]


def _methods() -> list[Item]:
    macros = [entry for entry in MACROS.values() if entry.signatures[0].startswith(("list.", "opt."))]
    return [_item(entry) for entry in (*METHODS.values(), *macros)]


def _members(receiver: list[str], events: list[Mapping[str, Any]]) -> list[Item]:
    head, rest = receiver[0], receiver[1:]
    if head in _NAMESPACES and not rest:
        return [
            _item(entry, entry.name.split(".", 1)[1])
            for entry in {**FUNCTIONS, **MACROS}.values()
            if entry.name.startswith(head + ".")
        ]
    if head == "event":
        return [Item(key, "field", detail) for key, detail in _event_fields(events, rest).items()]
    fields = _ENTITY_FIELDS if head in ("participant", "recipient") else _PROGRAM_FIELDS if head == "program" else {}
    if not rest:
        return [Item(key, "field", detail) for key, detail in fields.items()]
    if head in ("participant", "recipient") and rest[0] == "tiers" and len(rest) == 2:
        return [Item("level", "field", "string"), Item("rank", "field", "double")]
    return []


def _event_fields(events: list[Mapping[str, Any]], path: list[str]) -> dict[str, str]:
    """The keys found at `path` in any sample event, each with the CEL type of a value seen there."""
    fields: dict[str, str] = {}
    for event in events:
        node: Any = event
        for part in path:
            node = node.get(part) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping):
            for key, value in node.items():
                if isinstance(key, str):
                    fields.setdefault(key, _cel_type(value))
    return fields


def _cel_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "double"  # every number of an event is a double (D7)
    return {str: "string", list: "list", dict: "map", type(None): "null"}.get(type(value), "value")


def _item(entry: Entry, label: str | None = None) -> Item:
    return Item(label or entry.name, entry.kind, entry.signatures[0], entry.doc)
