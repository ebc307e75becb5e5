"""Showing a condition's trace: every sub-expression with its value, nested as in the source.

The evaluator records one `TraceStep` per sub-expression it evaluated (source span, text, value
or error). Here the steps are ordered outermost first and given their nesting depth, and values
are written in CEL's notation, so `event.amount > 100.0` shows `250.0` beside
`event.amount`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from dsl.notation import cel_literal
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
    source: str = ""  # "line:column-line:column" (1-based) of the span in the bundle pane, when known


Locate = Callable[[int], tuple[int, int] | None]  # offset in the condition -> (line, column) in the pane


def trace_rows(steps: list[TraceStep] | None, locate: Locate | None = None) -> list[TraceRow]:
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
                source=_source(locate, step.start, step.end),
            )
        )
        open_ends.append(step.end)
    return rows


def _source(locate: Locate | None, start: int, end: int) -> str:
    if locate is None:
        return ""
    first, last = locate(start), locate(max(end - 1, start))
    if first is None or last is None:
        return ""
    return f"{first[0]}:{first[1]}-{last[0]}:{last[1] + 1}"


def format_value(value: Any) -> str:
    """A value in CEL's notation (`dsl.notation`), cut to `VALUE_CHARS_MAX` characters.

    >>> format_value({"a": [1.0, True, None]})
    '{"a": [1.0, true, null]}'
    """
    text = cel_literal(value)
    return text if len(text) <= VALUE_CHARS_MAX else text[: VALUE_CHARS_MAX - 1] + "…"
