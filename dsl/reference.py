"""What an editor tells a rule author about the language: the variables, the macros and every
built-in function with its signatures and a line of documentation.

Completion and hover in the playground and in `accrual lsp` read these tables; a test keeps
them in step with `dsl.functions.GLOBALS` and `METHODS` (every callable name documented, nothing
documented that does not exist).

    >>> FUNCTIONS["get"].signatures
    ('get(map, key, default) -> value',)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["FUNCTIONS", "MACROS", "VARIABLES", "Entry", "lookup"]

Kind = Literal["variable", "macro", "function", "method"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One name of the language: how it is called and what it does."""

    name: str
    kind: Kind
    signatures: tuple[str, ...]
    doc: str

    def markdown(self) -> str:
        """The hover text: the signatures as CEL, then the documentation."""
        return "```cel\n" + "\n".join(self.signatures) + "\n```\n\n" + self.doc


def _table(kind: Kind, rows: list[tuple[str, str, str]]) -> dict[str, Entry]:
    return {name: Entry(name, kind, tuple(s.strip() for s in sigs.split(";")), doc) for name, sigs, doc in rows}


VARIABLES = _table(
    "variable",
    [
        ("event", "event: map", "The event's `event_data`. Every number in it is a double."),
        (
            "participant",
            "participant: {id, external_id, status, tags, counters, attributes, tiers}",
            (
                "The event's participant: `tags` (list), `counters` (map of doubles), `attributes` "
                "(map of strings), `tiers` (map of `{level, rank}`)."
            ),
        ),
        (
            "recipient",
            "recipient: participant | null",
            "The event's recipient, shaped like `participant`; null when it has none.",
        ),
        ("program", "program: {tags, counters, attributes}", "The program's own tags, counters and attributes."),
        (
            "group",
            "group: {id, name, status, tags, counters, attributes} | null",
            (
                "The group the event names with `group_id` in its data: its tags, counters (doubles) "
                "and attributes; null when the event names none."
            ),
        ),
        ("now", "now: timestamp; now() -> timestamp", "The event's `event_timestamp`."),
    ],
)

MACROS = _table(
    "macro",
    [
        ("has", "has(m.f) -> bool", "Whether the field or key `f` is present, without failing when it is not."),
        (
            "all",
            "list.all(x, p) -> bool; all(i, v, p) -> bool",
            "Whether `p` holds for every element (on a map: every key).",
        ),
        ("exists", "list.exists(x, p) -> bool; exists(i, v, p) -> bool", "Whether `p` holds for at least one element."),
        ("exists_one", "list.exists_one(x, p) -> bool", "Whether `p` holds for exactly one element."),
        (
            "existsOne",
            "list.existsOne(x, p) -> bool; existsOne(i, v, p) -> bool",
            "Whether `p` holds for exactly one element.",
        ),
        ("map", "list.map(x, f) -> list; list.map(x, p, f) -> list", "`f` of every element (that satisfies `p`)."),
        ("filter", "list.filter(x, p) -> list", "The elements for which `p` holds."),
        (
            "transformList",
            "transformList(i, v, f) -> list; transformList(i, v, p, f) -> list",
            "A list of `f` over index and value.",
        ),
        (
            "transformMap",
            "transformMap(k, v, f) -> map; transformMap(k, v, p, f) -> map",
            "A map of `f` over key and value.",
        ),
        ("optMap", "opt.optMap(x, f) -> optional", "`f` of the optional's value, or none."),
        ("optFlatMap", "opt.optFlatMap(x, f) -> optional", "`f` (an optional) of the optional's value, or none."),
        ("cel.bind", "cel.bind(x, init, body)", "Evaluates `body` with the local name `x` bound to `init`."),
        (
            "cel.block",
            "cel.block([s0, s1, ...], body)",
            "Shared slots `cel.index(n)`, each evaluated once, then `body`.",
        ),
    ],
)

_TIME_ZONE = "; with a time zone such as `'Europe/London'` or `'+02:00'` (UTC otherwise)"
_TIME = [
    (name, f"timestamp.{name}() -> int; timestamp.{name}(zone) -> int", doc + _TIME_ZONE)
    for name, doc in [
        ("getFullYear", "The year"),
        ("getMonth", "The month, 0 for January"),
        ("getDate", "The day of the month, 1-based"),
        ("getDayOfMonth", "The day of the month, 0-based"),
        ("getDayOfWeek", "The day of the week, 0 for Sunday"),
        ("getDayOfYear", "The day of the year, 0-based"),
        ("getHours", "The hour, 0-23"),
        ("getMinutes", "The minutes, 0-59"),
        ("getSeconds", "The seconds, 0-59"),
        ("getMilliseconds", "The milliseconds, 0-999"),
    ]
]

_GLOBAL_ROWS = [
    ("size", "size(x) -> int", "The length of a string, bytes, list or map."),
    ("matches", "matches(string, regex) -> bool", "Whether the RE2 regular expression matches part of the string."),
    ("dyn", "dyn(x) -> x", "The value itself, typed dynamically."),
    ("type", "type(x) -> type", "The type of a value (`int`, `string`, ...)."),
    ("int", "int(x) -> int", "An int from a uint, double (truncated), string or timestamp (seconds)."),
    ("uint", "uint(x) -> uint", "A uint from an int, double or string."),
    ("double", "double(x) -> double", "A double from an int, uint or string."),
    ("string", "string(x) -> string", "The text of a value."),
    ("bytes", "bytes(string) -> bytes", "The UTF-8 bytes of a string."),
    ("bool", "bool(string) -> bool", "`true` or `false` from their text."),
    (
        "timestamp",
        "timestamp(string) -> timestamp; timestamp(int) -> timestamp",
        "An RFC 3339 time, or seconds since the epoch.",
    ),
    ("duration", "duration(string) -> duration", "A duration such as `'1h30m'` or `'90s'`."),
    ("strings.quote", "strings.quote(string) -> string", "The string as a quoted, escaped literal."),
    (
        "math.greatest",
        "math.greatest(a, b, ...) -> number; math.greatest(list) -> number",
        "The largest of the numbers.",
    ),
    ("math.least", "math.least(a, b, ...) -> number; math.least(list) -> number", "The smallest of the numbers."),
    ("math.ceil", "math.ceil(double) -> double", "Rounded up."),
    ("math.floor", "math.floor(double) -> double", "Rounded down."),
    ("math.round", "math.round(double) -> double", "Rounded to the nearest whole number, halves away from zero."),
    ("math.trunc", "math.trunc(double) -> double", "The whole part."),
    ("math.abs", "math.abs(number) -> number", "The absolute value."),
    ("math.sign", "math.sign(number) -> number", "-1, 0 or 1 in the number's type."),
    ("math.isNaN", "math.isNaN(double) -> bool", "Whether the double is NaN."),
    ("math.isInf", "math.isInf(double) -> bool", "Whether the double is infinite."),
    ("math.isFinite", "math.isFinite(double) -> bool", "Whether the double is neither NaN nor infinite."),
    ("math.bitAnd", "math.bitAnd(int, int) -> int", "Bitwise and."),
    ("math.bitOr", "math.bitOr(int, int) -> int", "Bitwise or."),
    ("math.bitXor", "math.bitXor(int, int) -> int", "Bitwise exclusive or."),
    ("math.bitNot", "math.bitNot(int) -> int", "Bitwise not."),
    ("math.bitShiftLeft", "math.bitShiftLeft(int, int) -> int", "Shifted left by a number of bits."),
    ("math.bitShiftRight", "math.bitShiftRight(int, int) -> int", "Shifted right by a number of bits."),
    ("sets.contains", "sets.contains(list, list) -> bool", "Whether the first list holds every element of the second."),
    ("sets.intersects", "sets.intersects(list, list) -> bool", "Whether the lists share an element."),
    ("sets.equivalent", "sets.equivalent(list, list) -> bool", "Whether the lists hold the same elements."),
    ("optional.of", "optional.of(x) -> optional", "An optional holding `x`."),
    ("optional.none", "optional.none() -> optional", "An empty optional."),
    (
        "optional.ofNonZeroValue",
        "optional.ofNonZeroValue(x) -> optional",
        "An optional holding `x`, empty for a zero value.",
    ),
    (
        "get",
        "get(map, key, default) -> value",
        "The value under `key`, or `default` when the map has no such key (Scrip).",
    ),
    (
        "round",
        "round(number, digits) -> number",
        "Rounded half-even to `digits` decimals, as the number is written (Scrip).",
    ),
    ("lists.range", "lists.range(n) -> list", "The list `[0, 1, ..., n-1]`."),
    ("base64.encode", "base64.encode(bytes) -> string", "Base64 text of the bytes."),
    ("base64.decode", "base64.decode(string) -> bytes", "The bytes of Base64 text (padding optional)."),
]

_METHOD_ROWS = [
    ("size", "x.size() -> int", "The length of a string, bytes, list or map."),
    ("contains", "string.contains(string) -> bool", "Whether the text occurs in the string."),
    ("startsWith", "string.startsWith(string) -> bool", "Whether the string starts with the text."),
    ("endsWith", "string.endsWith(string) -> bool", "Whether the string ends with the text."),
    ("matches", "string.matches(regex) -> bool", "Whether the RE2 regular expression matches part of the string."),
    *_TIME,
    ("charAt", "string.charAt(int) -> string", "The character at an index (empty at the end)."),
    (
        "indexOf",
        "string.indexOf(text) -> int; string.indexOf(text, start) -> int",
        "The first index of the text, or -1.",
    ),
    (
        "lastIndexOf",
        "string.lastIndexOf(text) -> int; string.lastIndexOf(text, end) -> int",
        "The last index of the text, or -1.",
    ),
    ("lowerAscii", "string.lowerAscii() -> string", "ASCII letters in lower case."),
    ("upperAscii", "string.upperAscii() -> string", "ASCII letters in upper case."),
    (
        "replace",
        "string.replace(old, new) -> string; string.replace(old, new, n) -> string",
        "The text with `old` replaced (at most `n` times).",
    ),
    ("split", "string.split(sep) -> list; string.split(sep, n) -> list", "The parts between separators (at most `n`)."),
    ("substring", "string.substring(start) -> string; string.substring(start, end) -> string", "Part of the string."),
    ("trim", "string.trim() -> string", "Without leading and trailing white space."),
    ("join", "list.join() -> string; list.join(sep) -> string", "The strings of the list joined."),
    ("reverse", "string.reverse() -> string", "The characters in reverse order."),
    ("format", "string.format(list) -> string", "`'%s has %d'.format([name, n])`: the values placed into the text."),
    ("hasValue", "optional.hasValue() -> bool", "Whether the optional holds a value."),
    ("value", "optional.value() -> value", "The optional's value (an error when empty)."),
    ("orValue", "optional.orValue(default) -> value", "The optional's value, or `default` when empty."),
    ("or", "optional.or(optional) -> optional", "This optional if it holds a value, else the other."),
    ("slice", "list.slice(start, end) -> list", "The elements from `start` up to `end`."),
    (
        "flatten",
        "list.flatten() -> list; list.flatten(depth) -> list",
        "Nested lists flattened (one level by default).",
    ),
    ("distinct", "list.distinct() -> list", "The elements without repeats, in order."),
    ("sort", "list.sort() -> list", "The elements in ascending order."),
    ("first", "list.first() -> optional", "The first element, or none."),
    ("last", "list.last() -> optional", "The last element, or none."),
]

FUNCTIONS = _table("function", _GLOBAL_ROWS)
METHODS = _table("method", _METHOD_ROWS)


def lookup(name: str, *, method: bool | None = None) -> Entry | None:
    """The entry for a name as written in an expression (`get`, `math.least`, `has`, `event`);
    `method=True` prefers the receiver-style function (`x.size()`), False the global one.

    >>> lookup("size", method=True).signatures
    ('x.size() -> int',)
    """
    tables = (METHODS, FUNCTIONS) if method else (FUNCTIONS, METHODS)
    for table in (MACROS, *tables, VARIABLES):
        if name in table:
            return table[name]
    return None
