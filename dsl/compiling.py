"""What the compiler's helpers (name resolution, macros, `cel.block`) may use of the compiler.

`dsl.compiler` dispatches some nodes to `dsl.resolve`, `dsl.macros` and `dsl.blocks`; those
compile their sub-expressions through the `Compiling` protocol below, never through the
`Compiler` class, so the helpers depend on this module and the compiler on them, not both ways.
The protocol is used at compile time only: the closures it returns call one another directly.

The env keys are here too (`BUDGET` and `DEADLINE` come from `dsl.limits`, beside the budget):
the compiler, the helpers, tracing and `dsl.expression` (which makes the private env of an
evaluation) all agree on them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from dsl.errors import DslError
from dsl.limits import BUDGET, DEADLINE
from dsl.specialize import Code, Fn
from dsl.syntax import Node

TRACE = object()  # the env key of the list of trace steps (traced evaluation only)
MISSING = object()  # "no value" where None is a value
__all__ = ["BUDGET", "DEADLINE", "MISSING", "TRACE", "Compiling", "Tracer"]

# Wraps the closure of a node so that evaluating it records a step: (node, closure, source) -> closure.
Tracer = Callable[[Node, Fn, str], Fn]


class Compiling(Protocol):
    """One expression being compiled, as its helpers see it.

    `variables` None accepts any name and resolves it at evaluation. Helpers add the names they
    read to `reads`, push and pop comprehension variables on `scope` (innermost last) and
    `cel.block`s on `blocks`, and set `needs_env` when their closures need the private env (the
    budget, comprehension variables, block slots).

    `cost` is the static cost of what has been compiled so far (`dsl.limits`: one unit a node, a
    function's own weight, one for a folded constant): a comprehension's step costs what its body
    added.
    """

    variables: frozenset[str] | None
    tracer: Tracer | None
    scope: list[str]
    reads: set[str]
    needs_env: bool
    blocks: list[Any]  # the cel.block()s being compiled, innermost last; `dsl.blocks` owns their type
    cost: int

    def compile(self, node: Node) -> Code:
        """The closure of a sub-expression (traced when `tracer` is set)."""

    def fold(self, fn: Fn, *parts: Code) -> Code:
        """`fn` as a `Code`; run at compile time into a constant when every part is constant."""

    def error(self, error_class: type[DslError], message: str, node: Node, **extra: Any) -> DslError:
        """An error positioned at `node`'s span in the source, for the helper to raise."""

    def enter_scope(self, names: list[str]) -> int:
        """Push variables a helper binds; returns what `leave_scope` needs to restore."""

    def leave_scope(self, outer: int, count: int) -> bool:
        """Pop the `count` innermost variables; True when what was compiled since `enter_scope`
        read nothing but these variables and those bound inside it (no binding, no block slot)."""

    def note_read(self, position: int) -> None:
        """A closure reads the scope variable at `position` of `scope`, or (-1) the bindings."""
