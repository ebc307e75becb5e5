"""YAML text -> plain data, with the file position of every node.

Bundle files are YAML, but the schema is checked by msgspec on plain data, and every problem must
point at a line and column. `parse_yaml` composes the node graph (libyaml's C loader when present),
converts it to plain Python values itself, and records where each value came from, keyed by its
path (`("rules", 0, "actions", 1, "amount")`).

Scalars are resolved by the YAML 1.2 core schema, not PyYAML's YAML 1.1 one, so the classic
surprises do not happen silently:

* `yes`, `no`, `on`, `off` stay strings (`tag: no` is the tag "no"); only `true` / `false` are
  booleans, and a field that wants a boolean says so when given `yes`.
* `010` is the integer 10, not octal 8, and is reported as a warning (`octal_looking_number`),
  because other YAML 1.1 tools read it as 8. `1_000`, `1:20` and dates stay strings.
* A value starting with `!` is a YAML tag, not CEL negation: reported as `yaml_tag` with the fix
  (quote it or use a block scalar `>-`).

Duplicate mapping keys, which PyYAML silently overwrites, are reported as `duplicate_key`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

Path = tuple[str | int, ...]
Severity = Literal["error", "warning"]

# Bounds against hostile files: anchors and aliases can expand a small file exponentially.
SOURCE_BYTES_MAX = 2_000_000
NODES_MAX = 200_000

_STR, _MERGE = "tag:yaml.org,2002:str", "tag:yaml.org,2002:merge"
_PLAIN = "tag:accrual,2026:plain"  # an untagged plain scalar, resolved by `_resolve_plain`
# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution)
_NULL_RE = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT_RE = re.compile(r"^[-+]?[0-9]+$")
_HEX_RE = re.compile(r"^0x[0-9a-fA-F]+$")
_OCT_RE = re.compile(r"^0o[0-7]+$")
_FLOAT_RE = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF_RE = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN_RE = re.compile(r"^\.(?:nan|NaN|NAN)$")
_LEADING_ZERO_RE = re.compile(r"^[-+]?0[0-9]+$")
# The first characters a null, boolean, number, infinity or NaN can start with.
_NON_STRING_FIRST = frozenset("~nNtTfF0123456789+-.")


class _TagResolver(yaml.resolver.BaseResolver):
    """Tags only what the converter needs. PyYAML's resolver tries the YAML 1.1 patterns on every
    plain scalar, a large part of reading a bundle; here an untagged plain scalar gets `_PLAIN`, which
    `_resolve_plain` resolves by the YAML 1.2 core schema, and a plain `<<` the merge tag. A tag
    written in the file (`!!str 10`, `!x`) is kept as written."""

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None  # no path resolvers: nothing to track per level

    def ascend_resolver(self) -> None:
        return None

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            if implicit[0]:
                return _MERGE if value == "<<" else _PLAIN
            return _STR
        return super().resolve(kind, value, implicit)  # the default sequence and mapping tags


def _python_loader() -> type:
    class PythonLoader(
        yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer, _TagResolver
    ):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _TagResolver.__init__(self)

    return PythonLoader


def _libyaml_loader() -> type | None:
    try:
        from yaml.cyaml import CParser
    except ImportError:  # pragma: no cover - depends on how PyYAML was built
        return None

    class LibyamlLoader(CParser, _TagResolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _TagResolver.__init__(self)

    return LibyamlLoader


# libyaml's C loader is much faster; the pure-Python composer gives the same nodes
_Loader = _libyaml_loader() or _python_loader()


@dataclass(frozen=True)
class Position:
    """Where a node starts (1-based line and column) and, for scalars, how to find its text."""

    line: int
    column: int
    start: int  # 0-based character index of the node in the source
    end: int
    style: str | None = None  # scalar style: None (plain), "'", '"', "|", ">"; None for collections


@dataclass(frozen=True)
class YamlIssue:
    """A problem found while reading YAML (before any schema check)."""

    code: str
    message: str
    line: int
    column: int
    severity: Severity = "error"


@dataclass
class YamlDocument:
    """The plain data of a YAML document and the position of every value in it."""

    source: str
    data: Any = None
    positions: Mapping[Path, Position] = field(default_factory=dict)
    key_positions: Mapping[Path, Position] = field(default_factory=dict)  # where a mapping key is written
    issues: list[YamlIssue] = field(default_factory=list)
    _line_starts: list[int] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return not any(issue.severity == "error" for issue in self.issues)

    def position(self, path: Path) -> Position | None:
        """The position of the value at `path`, or of its nearest ancestor that has one."""
        for length in range(len(path), -1, -1):
            found = self.positions.get(path[:length])
            if found is not None:
                return found
        return None

    def line_column(self, index: int) -> tuple[int, int]:
        """1-based line and column of a 0-based character index of the source."""
        if not self._line_starts:
            self._line_starts = [0] + [i + 1 for i, c in enumerate(self.source) if c == "\n"]
        line = bisect.bisect_right(self._line_starts, index) - 1
        return line + 1, index - self._line_starts[line] + 1

    def scalar_index(self, path: Path, offset: int) -> int | None:
        """The source index of character `offset` of the string scalar at `path`.

        Example: for `condition: "a &&  b"` the offset of `b` (6) maps to the index of `b` in the
        file. Works for plain, quoted and block scalars (folded lines, indentation, escapes).
        """
        position = self.positions.get(path)
        value = _get(self.data, path)
        if position is None or not isinstance(value, str):
            return None
        return _align(value, self.source, position, offset)


def parse_yaml(source: str) -> YamlDocument:
    """Parse one YAML document into plain data plus positions.

    Example: `parse_yaml("a:\\n  - 1\\n").positions[("a", 0)].line == 2`.
    A syntax error yields a document with `data=None` and one `yaml_syntax` issue.
    """
    document = YamlDocument(source=source)
    if len(source) > SOURCE_BYTES_MAX:
        document.issues.append(
            YamlIssue("yaml_too_large", f"the file has {len(source)} characters; the limit is {SOURCE_BYTES_MAX}", 1, 1)
        )
        return document
    try:
        root = yaml.compose(source, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        document.issues.append(_syntax_issue(exc, source))
        return document
    except yaml.YAMLError as exc:  # e.g. more than one document
        document.issues.append(YamlIssue("yaml_syntax", str(exc).splitlines()[0], 1, 1))
        return document
    if root is None:
        document.data = None
        return document
    converter = _Converter(document)
    document.positions, document.key_positions = converter.positions, converter.key_positions
    try:
        document.data = converter.convert(root, ())
    except _TooLarge:
        document.data = None
        document.issues.append(
            YamlIssue("yaml_too_large", f"the document expands to more than {NODES_MAX} values (anchors/aliases)", 1, 1)
        )
    return document


class _TooLarge(Exception):
    pass


class _NodePositions(Mapping[Path, Position]):
    """Paths to the `Position` of their YAML node, made when first asked for. A bundle has a
    thousand or more nodes and only the few with a problem are ever looked up. The fields are
    kept as plain tuples, not the nodes: tuples of numbers are not tracked by the garbage
    collector, and a loaded bundle is kept (the playground caches them) while nodes and their
    marks would add three tracked objects a value to every full collection."""

    def __init__(self) -> None:
        self.fields: dict[Path, tuple[int, int, int, int, str | None]] = {}
        self._made: dict[Path, Position] = {}

    def __getitem__(self, path: Path) -> Position:
        position = self._made.get(path)
        if position is None:
            position = self._made[path] = Position(*self.fields[path])
        return position

    def __contains__(self, path: object) -> bool:
        return path in self.fields

    def __iter__(self) -> Iterator[Path]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)


class _Converter:
    def __init__(self, document: YamlDocument) -> None:
        self.document, self.count = document, 0
        self.positions, self.key_positions = _NodePositions(), _NodePositions()

    def convert(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > NODES_MAX:
            raise _TooLarge
        self.positions.fields[path] = _fields(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, index)) for index, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                self._issue(
                    "yaml_merge_key",
                    "merge keys (`<<`) belong to YAML 1.1 and are not read in bundle "
                    "files; write the keys out (an anchor can still stand for a whole value)",
                    key_node,
                )
                continue
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, (str, int, float, bool)) or key is None:
                self._issue("yaml_key", "mapping keys must be plain words or numbers", key_node)
                continue
            if not isinstance(key, str):
                key = key_node.value  # `200: x` -> key "200"; the schema speaks of string keys
            if key in result:
                self._issue(
                    "duplicate_key", f"the key '{key}' appears twice in this mapping; the last one would win", key_node
                )
                continue
            self.key_positions.fields[(*path, key)] = _fields(key_node)
            result[key] = self.convert(value_node, (*path, key))
        return result

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        text, tag = node.value, node.tag
        if tag.startswith("!") and not tag.startswith("!!"):
            self._issue(
                "yaml_tag",
                f"'{tag}' is read as a YAML tag, not as CEL negation; quote the value or write it as a "
                "block scalar (`>-` and the expression on the next line)",
                node,
            )
            # what the author meant, so the schema check does not report the same value again
            return f"{tag} {text}" if text else tag
        if node.style or tag == _STR:
            return text  # quoted and block scalars are strings, and so is a plain one tagged `!!str`
        value = _resolve_plain(text)
        if isinstance(value, int) and not isinstance(value, bool) and _LEADING_ZERO_RE.match(text):
            self._issue(
                "octal_looking_number",
                f"'{text}' is read as the number {value} (YAML 1.2); YAML 1.1 tools read it as octal "
                f"{int(text.lstrip('+-'), 8) if set(text) <= set('+-01234567') else 'or invalid'}; "
                "drop the leading zero or quote it",
                node,
                severity="warning",
            )
        return value

    def _issue(self, code: str, message: str, node: yaml.Node, severity: Severity = "error") -> None:
        mark = node.start_mark
        self.document.issues.append(YamlIssue(code, message, mark.line + 1, mark.column + 1, severity))


def _resolve_plain(text: str) -> Any:
    """A plain scalar's value under the YAML 1.2 core schema."""
    if text and text[0] not in _NON_STRING_FIRST:
        return text  # most scalars are words: none of the patterns below can match them
    if _NULL_RE.match(text):
        return None
    if _BOOL_RE.match(text):
        return text.lower() == "true"
    if _INT_RE.match(text):
        return int(text)
    if _HEX_RE.match(text):
        return int(text, 16)
    if _OCT_RE.match(text):
        return int(text[2:], 8)
    if _FLOAT_RE.match(text):
        return float(text)
    if _INF_RE.match(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN_RE.match(text):
        return float("nan")
    return text


def _fields(node: yaml.Node) -> tuple[int, int, int, int, str | None]:
    """The fields of the node's `Position`, in order."""
    start = node.start_mark
    style = (node.style or None) if type(node) is yaml.ScalarNode else None
    return (start.line + 1, start.column + 1, start.index, node.end_mark.index, style)


def _syntax_issue(exc: yaml.MarkedYAMLError, source: str) -> YamlIssue:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = exc.problem or "not valid YAML"
    if exc.context:
        message += f" ({exc.context})"
    lines = source.splitlines()
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    if _looks_like_inline_cel(text):
        message += (
            "; if this line holds a CEL expression, write it as a block scalar: the key, then `>-`, "
            "then the expression indented on the next line"
        )
    return YamlIssue("yaml_syntax", message, line, column)


def _looks_like_inline_cel(line: str) -> bool:
    """`key: 'vip' in x`, `key: !a`, `key: {..}.a`, `key: a ? b : c`: values YAML reads as syntax."""
    _, separator, value = line.partition(": ")
    value = value.strip()
    return bool(separator and value) and (value[0] in "!'\"{[&*" or ": " in value or " #" in value)


def _get(data: Any, path: Path) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _align(value: str, source: str, position: Position, offset: int) -> int:
    """Walk the scalar's value and its source text together to find where `offset` is written.

    Non-blank characters of a scalar appear in the source in the same order; what differs is
    whitespace (folding, indentation) and escapes (`\\"`, `''`), which the walk skips over.
    """
    start = position.start
    if position.style in ("'", '"'):
        start += 1
    elif position.style in ("|", ">"):
        newline = source.find("\n", start)
        start = newline + 1 if newline >= 0 else position.end
    index, end = start, max(position.end, start)
    for i, char in enumerate(value[: max(0, offset) + 1]):
        found = index
        if not char.isspace():
            while found < end and source[found] != char:
                found += 1
            if found >= end:
                return index
            index = found + 1
        elif index < end and source[index] == char:
            index += 1  # a folded line break has no character of its own; the search skips it
        if i == offset:
            return found
    return index
