"""Where a cursor is in a bundle file that is being typed: which mapping keys enclose it, whether
it is on a key, in a plain value or inside a CEL expression field.

Read from the indentation of the lines, not from a parsed document, because text being typed is
seldom valid YAML. Used by completion and hover (`engine.rules.completion`). Lines and characters
are 0-based, as editors count them.

    >>> place_at("rules:\\n  - name: a\\n    condition: event.ty", 2, 25).cel_prefix
    'event.ty'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["CEL_KEYS", "Place", "place_at"]

# Keys whose values are CEL (engine.rules.compiler: condition, amounts, counter values,
# references and target ids).
CEL_KEYS = frozenset({"condition", "amount", "value", "reference_id", "id", "external_id", "participant_id"})
ITEM = "*"  # a list item in a key path

_LINE = re.compile(r"^(?P<indent> *)(?P<dashes>(?:- +)*)(?P<rest>.*)$")
_KEY = re.compile(r"""^(?P<key>[A-Za-z_][\w.\-]*|"[^"]*"|'[^']*')\s*:(?:\s+(?P<value>.*))?$""")
_KEY_PREFIX = re.compile(r"^[A-Za-z_][\w\-]*$|^$")
_BLOCK_START = re.compile(r"^[|>][-+0-9]*\s*(#.*)?$")


@dataclass(frozen=True)
class Place:
    """`kind` is `key` (typing a mapping key), `value` (a plain value), `cel` (inside a CEL
    field) or `other`. `path` is the keys from the top down to the mapping the cursor is in
    (`*` for list items); `key` is the key whose value holds the cursor."""

    kind: Literal["key", "value", "cel", "other"]
    path: tuple[str, ...] = ()
    key: str | None = None
    word_start: int = 0  # where the word being typed starts on the cursor's line
    cel_prefix: str = ""  # the CEL text on the cursor's line before the cursor
    siblings: dict[str, str] = field(default_factory=dict)  # plain `key: value` pairs of the same mapping


def place_at(text: str, line: int, character: int) -> Place:
    """What the cursor at (`line`, `character`) is in."""
    lines = text.split("\n")
    if not 0 <= line < len(lines):
        return Place("other")
    before = lines[line][:character]
    parsed = _LINE.match(before)
    assert parsed is not None  # the pattern matches any line
    indent, dashes, rest = parsed.group("indent"), parsed.group("dashes"), parsed.group("rest")
    column = len(indent) + len(dashes)
    if rest.lstrip().startswith("#"):
        return Place("other")
    if _KEY_PREFIX.match(rest) and (dashes or not _in_scalar(lines, line, column)):
        path = _enclosing(lines, line, column, item=bool(dashes), dash_column=len(indent))
        return Place("key", path, word_start=column, siblings=_siblings(lines, line, column, new_item=bool(dashes)))
    match = _KEY.match(rest)
    if match and match.group("value") is None:
        return Place("other")  # right after `key:`
    if match:
        key, value = _unquote(match.group("key")), match.group("value")
        path = _enclosing(lines, line, column, item=bool(dashes), dash_column=len(indent))
        value_start = character - len(value)
        siblings = _siblings(lines, line, column, new_item=bool(dashes))
        if key in CEL_KEYS and not _BLOCK_START.match(value):
            prefix = value[1:] if value[:1] in "\"'" else value
            return Place("cel", path, key, _word_start(before), prefix, siblings)
        return Place("value", path, key, value_start, siblings=siblings)
    return _continuation(lines, line, character, before)


def _continuation(lines: list[str], line: int, character: int, before: str) -> Place:
    """A line inside a multi-line value: CEL when the value belongs to a CEL key."""
    indent = len(before) - len(before.lstrip(" ")) if before.strip() else len(lines[line]) - len(lines[line].lstrip())
    for number in range(line - 1, -1, -1):
        raw = lines[number]
        stripped = raw.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        parsed = _LINE.match(raw)
        assert parsed is not None
        column = len(parsed.group("indent")) + len(parsed.group("dashes"))
        if column >= indent and not (column == indent and _KEY.match(parsed.group("rest"))):
            continue
        match = _KEY.match(parsed.group("rest"))
        if match is None:
            return Place("other")
        key = _unquote(match.group("key"))
        if key not in CEL_KEYS:
            return Place("other")
        item, dash_column = bool(parsed.group("dashes")), len(parsed.group("indent"))
        path = _enclosing(lines, number, column, item=item, dash_column=dash_column)
        return Place("cel", path, key, _word_start(before), before.strip(), _siblings(lines, number, column))
    return Place("other")


def _in_scalar(lines: list[str], line: int, column: int) -> bool:
    """Whether a line indented to `column` continues the value of the key above it (a block
    scalar or a multi-line plain value) rather than starting a key of its own."""
    for number in range(line - 1, -1, -1):
        raw = lines[number]
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        parsed = _LINE.match(raw)
        assert parsed is not None
        if len(parsed.group("indent")) + len(parsed.group("dashes")) >= column:
            continue
        match = _KEY.match(parsed.group("rest"))
        return bool(match and match.group("value") and not match.group("value").startswith("#"))
    return False


def _enclosing(lines: list[str], line: int, column: int, *, item: bool, dash_column: int) -> tuple[str, ...]:
    """The keys above a key written at `column` on `line`, outermost first."""
    path: list[str] = []
    limit, equal_ok = column, False
    if item:
        path.append(ITEM)
        limit, equal_ok = dash_column, True
    for number in range(line - 1, -1, -1):
        raw = lines[number]
        stripped = raw.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        parsed = _LINE.match(raw)
        assert parsed is not None
        dash_at, dashes = len(parsed.group("indent")), parsed.group("dashes")
        content = dash_at + len(dashes)
        if dashes and content == limit and not equal_ok:
            path.append(ITEM)  # the mapping we are in is this list item
            limit, equal_ok = dash_at, True
            continue
        below = content < limit or (equal_ok and content == limit and not dashes)
        match = _KEY.match(parsed.group("rest"))
        if not below or match is None:
            if content < limit and match is None:
                break  # something that is not a key encloses us: give up on the rest
            continue
        path.append(_unquote(match.group("key")))
        limit, equal_ok = content, False
        if dashes:
            path.append(ITEM)
            limit, equal_ok = dash_at, True
        if limit == 0 and not equal_ok:
            break
    return tuple(reversed(path))


def _siblings(lines: list[str], line: int, column: int, *, new_item: bool = False) -> dict[str, str]:
    """The plain values of the mapping whose keys sit at `column` around `line` (the lines
    above belong to another item when `line` starts a list item)."""
    found: dict[str, str] = {}
    for step in (1,) if new_item else (-1, 1):
        number = line + step
        while 0 <= number < len(lines):
            raw = lines[number]
            parsed = _LINE.match(raw)
            assert parsed is not None
            content = len(parsed.group("indent")) + len(parsed.group("dashes"))
            if raw.strip() and not raw.lstrip().startswith("#"):
                if content < column:
                    break
                match = _KEY.match(parsed.group("rest"))
                if content == column and match and match.group("value"):
                    found.setdefault(_unquote(match.group("key")), _unquote(match.group("value").strip()))
                if parsed.group("dashes") and content == column and step == -1:
                    break  # the first line of this list item
            number += step
            if step == 1 and number < len(lines) and _LINE.match(lines[number]).group("dashes"):  # type: ignore[union-attr]
                nxt = _LINE.match(lines[number])
                if nxt and len(nxt.group("indent")) + len(nxt.group("dashes")) == column:
                    break  # the next list item
    return found


def _word_start(before: str) -> int:
    match = re.search(r"[A-Za-z_][\w]*$", before)
    return match.start() if match else len(before)


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'" else text
