"""Values written in CEL's own notation, so what a tool shows can be pasted back into a rule.

    >>> cel_literal({"type": "purchase", "amount": 12.5, "items": [1, True, None]})
    '{"type": "purchase", "amount": 12.5, "items": [1, true, null]}'

Strings are double-quoted with CEL escapes, doubles always carry a `.` or an exponent (`2.0`,
not `2`), unsigned integers end in `u`, bytes are `b"..."`, timestamps and durations are the
calls that make them (`timestamp("2026-01-01T00:00:00Z")`, `duration("90s")`), optionals are
`optional.of(x)` / `optional.none()`. Exact decimals (amounts and counters of the engine's state)
are written as their decimal text. Nothing here evaluates anything.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from dsl.errors import DslEvalError
from dsl.temporal import format_duration, format_timestamp
from dsl.values import CelType, Optional, UInt

__all__ = ["cel_literal", "cel_string"]

_PRINTABLE_BYTES = frozenset(range(0x20, 0x7F)) - {ord('"'), ord("\\")}
_BYTE_ESCAPES = {ord('"'): '\\"', ord("\\"): "\\\\", ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


def cel_literal(value: Any) -> str:
    """`value` as CEL writes it.

    >>> cel_literal(2.0), cel_literal(7), cel_literal(UInt(3)), cel_literal(b"a\\xff")
    ('2.0', '7', '3u', 'b"a\\\\xff"')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, UInt):
        return f"{int(value)}u"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _double(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return cel_string(value)
    if isinstance(value, bytes):
        return 'b"' + "".join(_byte(b) for b in value) + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(cel_literal(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{cel_literal(k)}: {cel_literal(v)}" for k, v in value.items()) + "}"
    return _special(value)


def cel_string(text: str) -> str:
    """A CEL string literal: double quotes, JSON's escapes (each of them a CEL escape too).

    >>> cel_string('say "hi"\\n')
    '"say \\\\"hi\\\\"\\\\n"'
    """
    return json.dumps(text, ensure_ascii=False)


def _double(value: float) -> str:
    if math.isnan(value):
        return 'double("NaN")'
    if math.isinf(value):
        return 'double("Infinity")' if value > 0 else 'double("-Infinity")'
    text = repr(value)
    return text if any(c in text for c in ".en") else text + ".0"


def _byte(byte: int) -> str:
    if byte in _BYTE_ESCAPES:
        return _BYTE_ESCAPES[byte]
    return chr(byte) if byte in _PRINTABLE_BYTES else f"\\x{byte:02x}"


def _special(value: Any) -> str:
    if isinstance(value, datetime):
        try:
            return f'timestamp("{format_timestamp(value)}")'
        except DslEvalError:  # outside CEL's range: still show when it is
            return f'timestamp("{value.isoformat()}")'
    if isinstance(value, timedelta):
        return f'duration("{format_duration(value)}")'
    if isinstance(value, Optional):
        return f"optional.of({cel_literal(value.value)})" if value.has_value else "optional.none()"
    if isinstance(value, CelType):
        return value.name
    return str(value)
