"""Traced evaluation: the value (or error) of every sub-expression, with its place in the source.

The playground and the API's explanations show these steps (D30). The traced closures are a
second compilation of the same tree, made on the first `evaluate_traced`, so plain `evaluate`
never pays for the bookkeeping.

    >>> traced = compile_expression("1.0 + x > 2.0").evaluate_traced({"x": 1.5})
    >>> [(step.text, step.value) for step in traced.steps]
    [('1.0', 1.0), ('x', 1.5), ('1.0 + x', 2.5), ('2.0', 2.0), ('1.0 + x > 2.0', True)]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dsl.compiling import TRACE
from dsl.errors import DslError
from dsl.specialize import Env, Fn
from dsl.syntax import Node

TRACE_STEPS_MAX = 2_000  # steps one traced evaluation records (more than a page can show)


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One evaluated sub-expression: `source[start:end]` is `text`; `error` is set when it failed."""

    start: int
    end: int
    text: str
    value: Any
    error: DslError | None


@dataclass(slots=True)
class Traced:
    """The outcome of a traced evaluation; steps are in evaluation order (children first)."""

    value: Any
    error: DslError | None
    steps: list[TraceStep] = field(default_factory=list)


def record(node: Node, fn: Fn, source: str) -> Fn:
    """Wrap a node's closure so each call appends its step to the evaluation's list, up to
    `TRACE_STEPS_MAX` steps (a loop over a large list would otherwise record millions); steps
    that raised may take as many again, so the step of an error that ends a long evaluation is
    still there to point at."""
    start, end = node.start, node.end
    text = source[start:end]

    def traced(env: Env) -> Any:
        steps = env[TRACE]
        try:
            value = fn(env)
        except DslError as exc:
            if len(steps) < 2 * TRACE_STEPS_MAX:
                steps.append(TraceStep(start, end, text, None, exc))
            raise
        if len(steps) < TRACE_STEPS_MAX:
            steps.append(TraceStep(start, end, text, value, None))
        return value

    return traced
