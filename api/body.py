"""JSON request bodies, decoded once ahead of the handler, every failure a 400 (D24).

Litestar decodes a body when the handler asks for it, and lets through what its decoder raises
besides a malformed document: `UnicodeDecodeError` for bytes that are not UTF-8 and
`RecursionError` for a document nested deeper than the decoder's stack. Here the body is decoded
(the result is cached on the request, so the handler does not decode it again) and checked:

* valid UTF-8 and valid JSON (msgspec's message, as Litestar would have answered it);
* nested at most `BODY_DEPTH_MAX` deep (an event's `event_data` may nest 32, A76);
* every number fits a double: JSON has no bound on the digits of an integer, and rules see
  numbers as doubles (D7), so `1e400` and a 401-digit integer are refused alike.

    >>> check_value({"a": [1, 2.5]})          # passes
    >>> check_value({"n": 10**400})
    Traceback (most recent call last):
    api.errors.BadRequest: Number out of range - at `$.n`
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException

from api.errors import BadRequest

BODY_DEPTH_MAX = 64  # nesting of objects and arrays in a request body
_DOUBLE_LIMIT = 2**1024  # the first integer a double cannot hold (the largest double is below it)
_LONG_DIGITS = re.compile(rb"[0-9]{300}")


async def decode_body(request: Request) -> None:
    """Decode `request`'s JSON body into its cache, or raise `BadRequest`."""
    try:
        value = await request.json()
    except SerializationException as exc:
        raise _invalid(str(exc)) from None
    except UnicodeDecodeError:
        raise _invalid("the request body is not valid UTF-8") from None
    except RecursionError:
        raise _too_deep() from None
    # An integer no double holds is written with more than 300 digits: only then are numbers looked at.
    check_value(value, numbers=_LONG_DIGITS.search(await request.body()) is not None)


def check_value(value: Any, *, numbers: bool = True) -> None:
    """Refuse a decoded body nested deeper than `BODY_DEPTH_MAX` or (with `numbers`) holding an
    integer beyond the double range. Iterative, so no depth of input can exhaust the stack; a path
    is spelled out only for the message of a refusal."""
    if type(value) is not dict and type(value) is not list:
        _check_number(value, None, numbers)
        return
    pending: list[tuple[Any, int, Any]] = [(value, 0, None)]
    while pending:
        current, depth, where = pending.pop()
        if depth >= BODY_DEPTH_MAX:
            raise _too_deep()
        for key, item in current.items() if type(current) is dict else enumerate(current):
            kind = type(item)
            if kind is dict or kind is list:
                pending.append((item, depth + 1, (where, key)))
            elif kind is int and numbers:
                _check_number(item, (where, key), numbers)


def _check_number(value: Any, where: Any, numbers: bool) -> None:
    if numbers and type(value) is int and not -_DOUBLE_LIMIT < value < _DOUBLE_LIMIT:
        path = _path(where)
        raise BadRequest(f"Number out of range - at `{path}`", details={"field": path[2:], "reason": "invalid"})


def _path(where: Any) -> str:
    """`(((None, "a"), 0), "b")` -> "$.a[0].b" (cut to 200 characters)."""
    parts: list[str] = []
    while where is not None:
        where, key = where
        parts.append(f"[{key}]" if type(key) is int else f".{key}")
    return ("$" + "".join(reversed(parts)))[:200]


def _invalid(message: str) -> BadRequest:
    return BadRequest(message, details={"field": "body", "reason": "invalid"})


def _too_deep() -> BadRequest:
    return BadRequest(
        f"the request body nests deeper than {BODY_DEPTH_MAX} levels",
        details={"field": "body", "reason": "too_deep"},
    )
