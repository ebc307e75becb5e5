"""Showing a condition's trace: every sub-expression with its value, nested as in the source.

The evaluator records one `TraceStep` per sub-expression it evaluated (source span, text, value
or error). Here the steps are ordered outermost first and given their nesting depth, and values
are written the way CEL writes literals, so `event.amount > 100.0` shows `250.0` beside
`event.amount`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from dsl.values import Optional, UInt
from engine.model.result import TraceStep

VALUE_CHARS_MAX = 200  # a long list or string is cut in the display, never in the evaluation


class TraceRow(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the displayed trace."""

    depth: int
    text: str
    value: str | None
    error: str | None
    start: int
    end: int


def trace_rows(steps: list[TraceStep] | None) -> list[TraceRow]:
    """The steps outermost first (by start, then widest), each with its nesting depth.

    >>> [(r.depth, r.text) for r in trace_rows([TraceStep(start=0, end=1, text="a", value=1),
    ...                                          TraceStep(start=0, end=5, text="a + 1", value=2)])]
    [(0, 'a + 1'), (1, 'a')]
    """
    ordered = sorted(steps or [], key=lambda s: (s.start, -s.end))
    rows: list[TraceRow] = []
    open_ends: list[int] = []  # ends of the spans enclosing the current step
    for step in ordered:
        while open_ends and step.start >= open_ends[-1]:
            open_ends.pop()
        rows.append(
            TraceRow(
                depth=len(open_ends),
                text=step.text,
                value=None if step.error is not None else format_value(step.value),
                error=step.error,
                start=step.start,
                end=step.end,
            )
        )
        open_ends.append(step.end)
    return rows


def format_value(value: Any) -> str:
    """A value as a CEL literal, cut to `VALUE_CHARS_MAX` characters.

    >>> format_value({"a": [1.0, True, None]})
    "{'a': [1.0, true, null]}"
    """
    text = _literal(value)
    return text if len(text) <= VALUE_CHARS_MAX else text[: VALUE_CHARS_MAX - 1] + "…"


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, UInt):
        return f"{int(value)}u"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"
    if isinstance(value, bytes):
        return "b" + _literal(value.decode("latin-1"))
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, datetime):
        return f"timestamp('{value.isoformat().replace('+00:00', 'Z')}')"
    if isinstance(value, timedelta):
        return f"duration('{value.total_seconds():g}s')"
    if isinstance(value, Optional):
        return f"optional.of({_literal(value.value)})" if value.has_value else "optional.none()"
    return str(value)
