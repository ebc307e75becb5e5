"""Where a bundle file declares its names and where it refers to them: what go-to-definition in
`accrual lsp` follows from an asset, tier, level or rule reference to its declaration.

    >>> doc = parse_yaml("assets:\\n- {symbol: PTS, name: P, scale: 0}\\nrules:\\n- actions: [{asset_id: PTS}]\\n")
    >>> definition_at(doc, 3, 22).path
    ('assets', 0, 'symbol')

Positions are 0-based lines and characters, as editors count them. Works on whatever the YAML
reader made of the text, so a file with schema or CEL errors still navigates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from engine.rules.yaml_source import Path, Position, YamlDocument, parse_yaml

__all__ = ["Declaration", "Reference", "declarations", "definition_at", "parse_yaml", "reference_at", "references"]

Kind = Literal["asset", "tier", "level", "rule"]
_ANY = "*"  # one list index or mapping key in a pattern
_KEY = "<key>"  # the mapping key itself is the name

# (path pattern, kind): the value (or, with _KEY, the key) at a matching path names a declaration.
_REFERENCE_PATTERNS: list[tuple[tuple[str, ...], Kind]] = [
    (("rules", _ANY, "actions", _ANY, "asset_id"), "asset"),
    (("rules", _ANY, "budgets", _ANY, "asset_id"), "asset"),
    (("rules", _ANY, "actions", _ANY, "tier"), "tier"),
    (("rules", _ANY, "actions", _ANY, "level"), "level"),
    (("tests", _ANY, "expect", "matched", _ANY), "rule"),
    (("tests", _ANY, "expect", "statuses", _KEY), "rule"),
    (("tests", _ANY, "budgets_consumed", _KEY), "rule"),
    (("tests", _ANY, "budgets_consumed", _ANY, _KEY), "asset"),
    (("tests", _ANY, "expect", "credits", _KEY), "asset"),
    (("tests", _ANY, "expect", "debits", _KEY), "asset"),
    (("tests", _ANY, "expect", "balances", _KEY), "asset"),
    (("tests", _ANY, "expect", "tiers", _KEY), "tier"),
    (("tests", _ANY, _ANY, "balances", _KEY), "asset"),
    (("tests", _ANY, _ANY, "tiers", _KEY), "tier"),
    (("tests", _ANY, _ANY, "tiers", _ANY), "level"),
    (("tests", _ANY, "expect", "tiers", _ANY), "level"),
]
_NAME_FIELDS: dict[str, tuple[str, Kind]] = {
    "assets": ("symbol", "asset"),
    "tiers": ("key", "tier"),
    "rules": ("name", "rule"),
}
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.\-]+")


@dataclass(frozen=True)
class Declaration:
    kind: Kind
    name: str
    path: Path  # of the scalar holding the name
    line: int  # 0-based
    character: int
    end_character: int
    scope: str | None = None  # a level's tier key


@dataclass(frozen=True)
class Reference:
    kind: Kind
    name: str
    path: Path
    line: int
    character: int
    end_character: int
    scope: str | None = None  # for a level: the tier it belongs to, when the file says


def declarations(document: YamlDocument) -> list[Declaration]:
    """Every asset symbol, tier key, tier level key and rule name the file declares."""
    data = document.data if isinstance(document.data, dict) else {}
    found: list[Declaration] = []
    for section, (field, kind) in _NAME_FIELDS.items():
        items = data.get(section)
        for index, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                continue
            _declare(found, document, kind, (section, index, field), item.get(field))
            levels = item.get("levels") if section == "tiers" else None
            for level_index, level in enumerate(levels if isinstance(levels, list) else []):
                if isinstance(level, dict):
                    path = (section, index, "levels", level_index, "key")
                    _declare(found, document, "level", path, level.get("key"), scope=item.get("key"))
    return found


def references(document: YamlDocument) -> list[Reference]:
    """Every place the file names an asset, tier, level or rule declared elsewhere in it."""
    found: list[Reference] = []
    for path, is_key in _paths(document):
        kind = _reference_kind(path, is_key)
        if kind is None:
            continue
        name = path[-1] if is_key else _value(document.data, path)
        position = (document.key_positions if is_key else document.positions).get(path)
        if isinstance(name, str) and position is not None:
            line, character, end = _span(document, position, name)
            found.append(Reference(kind, name, path, line, character, end, _level_scope(document.data, path, kind)))
    return found


def reference_at(document: YamlDocument, line: int, character: int) -> Reference | None:
    """The reference under a 0-based line and character, if any."""
    for reference in references(document):
        if reference.line == line and reference.character <= character <= reference.end_character:
            return reference
    return None


def definition_at(document: YamlDocument, line: int, character: int) -> Declaration | None:
    """The declaration that the reference under the cursor names, if the file has it."""
    reference = reference_at(document, line, character)
    if reference is None:
        return None
    for declaration in declarations(document):
        if declaration.kind != reference.kind or declaration.name != reference.name:
            continue
        if reference.scope is None or declaration.scope == reference.scope:
            return declaration
    return None


def _declare(
    found: list[Declaration], document: YamlDocument, kind: Kind, path: Path, name: Any, scope: Any = None
) -> None:
    position = document.positions.get(path)
    if isinstance(name, str) and position is not None:
        line, character, end = _span(document, position, name)
        found.append(Declaration(kind, name, path, line, character, end, scope if isinstance(scope, str) else None))


def _span(document: YamlDocument, position: Position, name: str) -> tuple[int, int, int]:
    start = position.start + (1 if position.style in ("'", '"') else 0)
    line, column = document.line_column(start)
    return line - 1, column - 1, column - 1 + len(name)


def _paths(document: YamlDocument) -> list[tuple[Path, bool]]:
    values = [(path, False) for path in document.positions]
    keys = [(path, True) for path in document.key_positions]
    return values + keys


def _reference_kind(path: Path, is_key: bool) -> Kind | None:
    for pattern, kind in _REFERENCE_PATTERNS:
        if len(pattern) != len(path) or (pattern[-1] == _KEY) != is_key:
            continue
        if all(part in (_ANY, _KEY) or part == actual for part, actual in zip(pattern, path, strict=True)):
            return kind
    return None


def _level_scope(data: Any, path: Path, kind: Kind) -> str | None:
    """The tier a level reference belongs to: the action's `tier`, or the map key it sits under."""
    if kind != "level":
        return None
    if path[-1] == "level":
        tier = _value(data, (*path[:-1], "tier"))
        return tier if isinstance(tier, str) else None
    return str(path[-1])  # `tiers: {status: gold}`: the key is the tier


def _value(data: Any, path: Path) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data
