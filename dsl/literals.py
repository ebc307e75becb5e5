"""Decoding of CEL literal tokens: numbers, strings and bytes with every escape of the spec.

    '\\a \\b \\f \\n \\r \\t \\v \\\\ \\' \\" \\` \\?'   single-character escapes
    \\xHH  \\ooo (octal, first digit 0-3)                 a code point in strings, a byte in bytes
    \\uHHHH  \\UHHHHHHHH                                  a code point (strings only)

A malformed literal raises `LiteralError`; the parser turns it into a positioned `DslSyntaxError`.
"""

from __future__ import annotations

import re

from dsl.values import UInt

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UINT64_MAX = 2**64 - 1

_ESCAPE = re.compile(r"\\([xX][0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-3][0-7]{2}|.)", re.S)
_SIMPLE = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?",
}  # fmt: skip


class LiteralError(ValueError):
    """A literal token that the grammar accepted but whose value is invalid."""


def int_literal(token: str) -> int:
    """`0x1F` -> 31. Values up to 2**63 are accepted here: `-9223372036854775808` is the negation of
    one, and the compiler rejects an unnegated 2**63."""
    value = int(token, 16) if token[:2].lower() == "0x" else int(token)
    if value > 2**63:
        raise LiteralError(f"int literal {token} is out of range")
    return value


def uint_literal(token: str) -> UInt:
    digits = token[:-1]
    value = int(digits, 16) if digits[:2].lower() == "0x" else int(digits)
    if value > UINT64_MAX:
        raise LiteralError(f"uint literal {token} is out of range")
    return UInt(value)


def double_literal(token: str) -> float:
    return float(token)


def _split(token: str) -> tuple[str, str]:
    """`b'''x'''` -> ("b", "x"): the lower-cased prefix and the body between the quotes."""
    start = 0
    while token[start] not in "'\"":
        start += 1
    prefix, rest = token[:start].lower(), token[start:]
    quote = 3 if rest[:3] in ('"""', "'''") and len(rest) >= 6 else 1
    return prefix, rest[quote:-quote]


def string_literal(token: str) -> str | bytes:
    """A quoted token with escapes: `'a\\tb'` -> 'a\\tb' (with a real tab), `b'\\xff'` -> b'\\xff'."""
    prefix, body = _split(token)
    as_bytes = "b" in prefix
    if "\\" not in body:
        return body.encode() if as_bytes else body
    pieces: list[bytes] = []
    position = 0
    for match in _ESCAPE.finditer(body):
        pieces.append(body[position : match.start()].encode())
        pieces.append(_escape(match.group(1), as_bytes))
        position = match.end()
    pieces.append(body[position:].encode())
    joined = b"".join(pieces)
    if as_bytes:
        return joined
    try:
        return joined.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LiteralError("string literal is not valid Unicode") from exc


def _escape(code: str, as_bytes: bool) -> bytes:
    head = code[0]
    if (head in "xX" and len(code) == 3) or (head in "0123" and len(code) == 3):
        number = int(code[1:], 16) if head in "xX" else int(code, 8)
        return bytes([number]) if as_bytes else chr(number).encode()
    if head in "uU" and len(code) > 1:
        if as_bytes:
            raise LiteralError(f"\\{head} escapes are not allowed in bytes literals")
        number = int(code[1:], 16)
        if number > 0x10FFFF or 0xD800 <= number <= 0xDFFF:
            raise LiteralError(f"\\{code} is not a valid code point")
        return chr(number).encode()
    simple = _SIMPLE.get(code)
    if simple is None:
        raise LiteralError(f"invalid escape sequence \\{code}")
    return simple.encode()


def raw_string_literal(token: str) -> str | bytes:
    prefix, body = _split(token)
    return body.encode() if "b" in prefix else body
