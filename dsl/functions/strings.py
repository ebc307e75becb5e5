"""The CEL string extension (cel-go `ext.Strings`): charAt, indexOf, lastIndexOf, lowerAscii,
upperAscii, replace, split, substring, trim, join, reverse and strings.quote.

Indices count code points, as Python's `str` does. Out-of-range indices raise
`DSL_INVALID_ARGUMENT` ("index out of range: 30"); wrong argument types raise
`DSL_NO_MATCHING_OVERLOAD`. Results that would exceed the string or list limits raise
`DslLimitError` before they are built.
"""

from __future__ import annotations

import re
from typing import Any

from dsl.errors import DslLimitError
from dsl.functions.formatting import format_string
from dsl.functions.registry import Function, function, invalid_argument, method, no_overload
from dsl.limits import STRING_LENGTH_MAX, check_length, check_string

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


def _check_result_length(length: int) -> None:
    """Refuse a string result before building it."""
    if length > STRING_LENGTH_MAX:
        raise DslLimitError(
            f"string of {length} characters exceeds the limit of {STRING_LENGTH_MAX}",
            code="DSL_LIMIT_STRING",
        )


def _out_of_range(index: int) -> Exception:
    return invalid_argument(f"index out of range: {index}")


def char_at(text: Any, index: Any) -> str:
    """`'hello'.charAt(1)` is 'e'; the index equal to the length gives ''."""
    if type(text) is not str or type(index) is not int:
        raise no_overload("charAt", text, index)
    if not 0 <= index <= len(text):
        raise _out_of_range(index)
    return text[index : index + 1]


def index_of(text: Any, part: Any, offset: Any = 0) -> int:
    """`'hello mellow'.indexOf('ello', 2)` is 7; -1 when absent."""
    if type(text) is not str or type(part) is not str or type(offset) is not int:
        raise no_overload("indexOf", text, part, offset)
    if not 0 <= offset <= len(text):
        raise _out_of_range(offset)
    return text.find(part, offset)


def last_index_of(text: Any, part: Any, *offset: Any) -> int:
    """`'hello mellow'.lastIndexOf('ello')` is 7; with an offset, the last match starting at or
    before it: `'hello mellow'.lastIndexOf('ello', 6)` is 1."""
    if type(text) is not str or type(part) is not str or any(type(o) is not int for o in offset):
        raise no_overload("lastIndexOf", text, part, *offset)
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


def lower_ascii(text: Any) -> str:
    """`'TacoCÆt'.lowerAscii()` is 'tacocÆt': only A-Z change."""
    if type(text) is not str:
        raise no_overload("lowerAscii", text)
    return text.lower() if text.isascii() else text.translate(_LOWER)


def upper_ascii(text: Any) -> str:
    if type(text) is not str:
        raise no_overload("upperAscii", text)
    return text.upper() if text.isascii() else text.translate(_UPPER)


def replace(text: Any, old: Any, new: Any, count: Any = -1) -> str:
    """`'hello hello'.replace('he', 'we', 1)` is 'wello hello'; a negative count replaces all."""
    if type(text) is not str or type(old) is not str or type(new) is not str or type(count) is not int:
        raise no_overload("replace", text, old, new, count)
    found = len(text) + 1 if old == "" else text.count(old)
    if count >= 0:
        found = min(found, count)
    _check_result_length(len(text) + found * (len(new) - len(old)))
    return text.replace(old, new, count)


def split(text: Any, separator: Any, limit: Any = -1) -> list[str]:
    """`'a,b,c'.split(',', 2)` is ['a', 'b,c']; limit 0 gives [], a negative limit splits all.
    An empty separator splits into code points."""
    if type(text) is not str or type(separator) is not str or type(limit) is not int:
        raise no_overload("split", text, separator, limit)
    if limit == 0:
        return []
    if separator == "":
        parts = list(text) if limit < 0 or limit > len(text) else [*text[: limit - 1], text[limit - 1 :]]
    else:
        parts = text.split(separator, limit - 1 if limit > 0 else -1)
    return check_length(parts)


def substring(text: Any, start: Any, *end: Any) -> str:
    """`'tacocat'.substring(4)` is 'cat', `'tacocat'.substring(0, 4)` is 'taco'."""
    if type(text) is not str or type(start) is not int or any(type(e) is not int for e in end):
        raise no_overload("substring", text, start, *end)
    stop = end[0] if end else len(text)
    if end and start > stop:
        raise invalid_argument(f"invalid substring range. start: {start}, end: {stop}")
    for index in (start, stop):
        if not 0 <= index <= len(text):
            raise _out_of_range(index)
    return text[start:stop]


def trim(text: Any) -> str:
    """Strip leading and trailing Unicode white space: `' \\ttext\\n'.trim()` is 'text'."""
    if type(text) is not str:
        raise no_overload("trim", text)
    return text.strip(_WHITE_SPACE)


def join(items: Any, separator: Any = "") -> str:
    """`['x', 'y'].join('-')` is 'x-y'; every element must be a string."""
    if type(items) is not list or type(separator) is not str:
        raise no_overload("join", items, separator)
    for item in items:
        if type(item) is not str:
            raise no_overload("join", items, separator)
    _check_result_length(sum(map(len, items)) + len(separator) * max(len(items) - 1, 0))
    return separator.join(items)


def reverse(value: Any) -> Any:
    """`'abc'.reverse()` is 'cba'; `[1, 2].reverse()` is [2, 1] (the lists extension)."""
    if type(value) is str or type(value) is list:
        return value[::-1]
    raise no_overload("reverse", value)


def quote(text: Any) -> str:
    """`strings.quote('a"b\\n')` is '"a\\\\"b\\\\n"': CEL escapes, so the result reads back as CEL."""
    if type(text) is not str:
        raise no_overload("strings.quote", text)
    sanitized = _SURROGATE.sub("\ufffd", text)  # unpaired surrogates are not valid text
    return check_string('"' + sanitized.translate(_QUOTE_ESCAPES) + '"')


def format_method(template: Any, args: Any) -> str:
    """`'%s has %d points'.format(['ann', 3])`; see `dsl.functions.formatting`."""
    if type(template) is not str or type(args) is not list:
        raise no_overload("format", template, args)
    return check_string(format_string(template, args))


FUNCTIONS: tuple[Function, ...] = (
    method("charAt", char_at, 1),
    method("indexOf", index_of, 1, 2),
    method("lastIndexOf", last_index_of, 1, 2),
    method("lowerAscii", lower_ascii, 0),
    method("upperAscii", upper_ascii, 0),
    method("replace", replace, 2, 3),
    method("split", split, 1, 2),
    method("substring", substring, 1, 2),
    method("trim", trim, 0),
    method("join", join, 0, 1),
    method("reverse", reverse, 0),
    method("format", format_method, 1),
    function("strings.quote", quote, 1),
)
