"""The CEL string extension (cel-go `ext.Strings`): charAt, indexOf, lastIndexOf, lowerAscii,
upperAscii, replace, split, substring, trim, join, reverse and strings.quote.

Indices count code points, as Python's `str` does. Out-of-range indices raise
`DSL_INVALID_ARGUMENT` ("index out of range: 30"); wrong argument types raise
`DSL_NO_MATCHING_OVERLOAD`. Results that would exceed the string or list limits raise
`DslLimitError` before they are built, and the work of each function is charged to the
evaluation's budget by the length it scans or produces (`dsl.limits`).
"""

from __future__ import annotations

import re
from typing import Any

from dsl.functions.formatting import format_string
from dsl.functions.registry import Function, function, invalid_argument, method, no_overload
from dsl.limits import (
    SMALL_LIST,
    SMALL_TEXT,
    Budget,
    check_count,
    check_string,
    check_string_length,
    element_units,
    text_units,
)

# Go's unicode.IsSpace (the Unicode White_Space property); unlike str.strip() it keeps the
# information separators U+001C..U+001F.
_WHITE_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}
_UPPER = {code + 32: code for code in range(ord("A"), ord("Z") + 1)}
_QUOTE_ESCAPES = {
    ord("\a"): "\\a", ord("\b"): "\\b", ord("\f"): "\\f", ord("\n"): "\\n", ord("\r"): "\\r",
    ord("\t"): "\\t", ord("\v"): "\\v", ord("\\"): "\\\\", ord('"'): '\\"',
}  # fmt: skip


_SURROGATE = re.compile("[\ud800-\udfff]")
# lowerAscii / upperAscii on text that is not all ASCII: A-Z never occur inside the UTF-8 encoding
# of another character, so translating the encoded bytes is exact, and C-fast where a `str.translate`
# with a dict costs about 0.1 µs a character.
_LOWER_BYTES = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")
_UPPER_BYTES = bytes.maketrans(b"abcdefghijklmnopqrstuvwxyz", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _charge_text(budget: Budget, length: int) -> None:
    """Charge the work of scanning, copying or producing `length` characters."""
    if length > SMALL_TEXT:
        budget.charge(text_units(length))


def _out_of_range(index: int) -> Exception:
    return invalid_argument(f"index out of range: {index}")


def char_at(text: Any, index: Any) -> str:
    """`'hello'.charAt(1)` is 'e'; the index equal to the length gives ''."""
    if type(text) is not str or type(index) is not int:
        raise no_overload("charAt", text, index)
    if not 0 <= index <= len(text):
        raise _out_of_range(index)
    return text[index : index + 1]


def index_of(budget: Budget, text: Any, part: Any, offset: Any = 0) -> int:
    """`'hello mellow'.indexOf('ello', 2)` is 7; -1 when absent."""
    if type(text) is not str or type(part) is not str or type(offset) is not int:
        raise no_overload("indexOf", text, part, offset)
    if not 0 <= offset <= len(text):
        raise _out_of_range(offset)
    _charge_text(budget, len(text) - offset + len(part))
    return text.find(part, offset)


def last_index_of(budget: Budget, text: Any, part: Any, *offset: Any) -> int:
    """`'hello mellow'.lastIndexOf('ello')` is 7; with an offset, the last match starting at or
    before it: `'hello mellow'.lastIndexOf('ello', 6)` is 1."""
    if type(text) is not str or type(part) is not str or any(type(o) is not int for o in offset):
        raise no_overload("lastIndexOf", text, part, *offset)
    _charge_text(budget, len(text) + len(part))
    if not offset:
        return text.rfind(part)
    start = offset[0]
    if part == "":
        if not 0 <= start <= len(text):
            raise _out_of_range(start)
        return start
    if not 0 <= start < len(text):
        raise _out_of_range(start)
    return text.rfind(part, 0, start + len(part))


def lower_ascii(budget: Budget, text: Any) -> str:
    """`'TacoCÆt'.lowerAscii()` is 'tacocÆt': only A-Z change."""
    if type(text) is not str:
        raise no_overload("lowerAscii", text)
    return _translate_ascii(budget, text, _LOWER_BYTES, lower=True)


def upper_ascii(budget: Budget, text: Any) -> str:
    if type(text) is not str:
        raise no_overload("upperAscii", text)
    return _translate_ascii(budget, text, _UPPER_BYTES, lower=False)


def _translate_ascii(budget: Budget, text: str, table: bytes, *, lower: bool) -> str:
    _charge_text(budget, 4 * len(text))  # encoding, translating, decoding
    if text.isascii():
        return text.lower() if lower else text.upper()
    encoded = text.encode("utf-8", "surrogatepass")
    return encoded.translate(table).decode("utf-8", "surrogatepass")


def replace(budget: Budget, text: Any, old: Any, new: Any, count: Any = -1) -> str:
    """`'hello hello'.replace('he', 'we', 1)` is 'wello hello'; a negative count replaces all."""
    if type(text) is not str or type(old) is not str or type(new) is not str or type(count) is not int:
        raise no_overload("replace", text, old, new, count)
    _charge_text(budget, len(text))  # counting
    found = len(text) + 1 if old == "" else text.count(old)
    if count >= 0:
        found = min(found, count)
    length = len(text) + found * (len(new) - len(old))
    check_string_length(length)
    _charge_text(budget, length)
    return text.replace(old, new, count)


def split(budget: Budget, text: Any, separator: Any, limit: Any = -1) -> list[str]:
    """`'a,b,c'.split(',', 2)` is ['a', 'b,c']; limit 0 gives [], a negative limit splits all.
    An empty separator splits into code points."""
    if type(text) is not str or type(separator) is not str or type(limit) is not int:
        raise no_overload("split", text, separator, limit)
    if limit == 0:
        return []
    _charge_text(budget, len(text))  # counting the parts, then copying them
    parts_count = len(text) if separator == "" else text.count(separator) + 1
    if limit > 0:
        parts_count = min(parts_count, limit)
    check_count(parts_count)  # before building them
    budget.charge(parts_count // 2 + 1)  # a string object each
    if separator == "":
        return list(text) if limit < 0 or limit > len(text) else [*text[: limit - 1], text[limit - 1 :]]
    return text.split(separator, limit - 1 if limit > 0 else -1)


def substring(budget: Budget, text: Any, start: Any, *end: Any) -> str:
    """`'tacocat'.substring(4)` is 'cat', `'tacocat'.substring(0, 4)` is 'taco'."""
    if type(text) is not str or type(start) is not int or any(type(e) is not int for e in end):
        raise no_overload("substring", text, start, *end)
    stop = end[0] if end else len(text)
    if end and start > stop:
        raise invalid_argument(f"invalid substring range. start: {start}, end: {stop}")
    for index in (start, stop):
        if not 0 <= index <= len(text):
            raise _out_of_range(index)
    _charge_text(budget, stop - start)
    return text[start:stop]


def trim(budget: Budget, text: Any) -> str:
    """Strip leading and trailing Unicode white space: `' \\ttext\\n'.trim()` is 'text'."""
    if type(text) is not str:
        raise no_overload("trim", text)
    _charge_text(budget, len(text))
    return text.strip(_WHITE_SPACE)


def join(budget: Budget, items: Any, separator: Any = "") -> str:
    """`['x', 'y'].join('-')` is 'x-y'; every element must be a string."""
    if type(items) is not list or type(separator) is not str:
        raise no_overload("join", items, separator)
    budget.charge(len(items) // 2 + 1)  # each element's type checked, in Python
    for item in items:
        if type(item) is not str:
            raise no_overload("join", items, separator)
    length = sum(map(len, items)) + len(separator) * max(len(items) - 1, 0)
    check_string_length(length)
    _charge_text(budget, length)
    return separator.join(items)


def reverse(budget: Budget, value: Any) -> Any:
    """`'abc'.reverse()` is 'cba'; `[1, 2].reverse()` is [2, 1] (the lists extension)."""
    if type(value) is str:
        _charge_text(budget, len(value))
        return value[::-1]
    if type(value) is list:
        if len(value) > SMALL_LIST:
            budget.charge(element_units(len(value)))
        return value[::-1]
    raise no_overload("reverse", value)


def quote(budget: Budget, text: Any) -> str:
    """`strings.quote('a"b\\n')` is '"a\\\\"b\\\\n"': CEL escapes, so the result reads back as CEL."""
    if type(text) is not str:
        raise no_overload("strings.quote", text)
    check_string_length(len(text) + 2)  # at least; at most twice as long
    budget.charge(len(text) // 2 + 1)  # translating through a dict: about 0.05 µs a character
    sanitized = _SURROGATE.sub("\ufffd", text)  # unpaired surrogates are not valid text
    return check_string('"' + sanitized.translate(_QUOTE_ESCAPES) + '"')


def format_method(budget: Budget, template: Any, args: Any) -> str:
    """`'%s has %d points'.format(['ann', 3])`; see `dsl.functions.formatting`."""
    if type(template) is not str or type(args) is not list:
        raise no_overload("format", template, args)
    return format_string(template, args, budget)


FUNCTIONS: tuple[Function, ...] = (
    method("charAt", char_at, 1),
    method("indexOf", index_of, 1, 2, budget=True),
    method("lastIndexOf", last_index_of, 1, 2, budget=True),
    method("lowerAscii", lower_ascii, 0, budget=True),
    method("upperAscii", upper_ascii, 0, budget=True),
    method("replace", replace, 2, 3, budget=True),
    method("split", split, 1, 2, budget=True),
    method("substring", substring, 1, 2, budget=True),
    method("trim", trim, 0, budget=True),
    method("join", join, 0, 1, budget=True),
    method("reverse", reverse, 0, budget=True),
    method("format", format_method, 1, budget=True, cost=20),
    function("strings.quote", quote, 1, budget=True, cost=5),
)
