"""The compiled expression: compile once, evaluate many times.

>>> expr = compile_expression("event.type == 'purchase' && event.amount >= 10.0",
...                           variables={"event", "now"})
>>> expr.evaluate({"event": {"type": "purchase", "amount": 12.5}})
True
>>> expr.equality_guards
{'event.type': 'purchase'}
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dsl.compiler import Compiler
from dsl.compiling import BUDGET, DEADLINE, TRACE
from dsl.errors import DslError, DslEvalError, DslLimitError
from dsl.limits import COST_MAX, Budget
from dsl.parser import parse
from dsl.specialize import Fn
from dsl.syntax import Node
from dsl.trace import Traced, record
from dsl.typecheck import check_types
from dsl.types import CelType

_GUARD_TYPES = (str, int, float, bool)
# Serialises the lazy traced compilation: an Expression is shared between threads and programs
# (the engine memoises them), and every caller must see the one traced closure tree it builds.
_TRACED_COMPILE_LOCK = threading.Lock()


class Expression:
    """One compiled CEL expression. Immutable and safe to share between threads.

    `evaluate(bindings)` returns the value for these bindings or raises a `DslError`. It is a
    closure made once per expression (not a method) so a call costs one frame, not three.
    """

    __slots__ = (
        "_declared",
        "_traced_run",
        "_tree",
        "equality_guards",
        "evaluate",
        "is_constant",
        "source",
        "variables",
    )  # fmt: skip

    def type_errors(self, env: Mapping[str, CelType]) -> list[DslError]:
        """The type errors of this expression given its variables' types (`dsl.typecheck`); run
        by checks, never by `evaluate`."""
        return check_types(self._tree, self.source, env)

    def __init__(self, source: str, tree: Node, declared: frozenset[str] | None) -> None:
        compiler = Compiler(source, declared)
        code = compiler.finish(compiler.compile(tree))
        self.source = source
        self.variables: frozenset[str] = frozenset(compiler.reads)
        self.equality_guards: dict[str, Any] = _equality_guards(tree, declared)
        self.is_constant: bool = code.constant
        self.evaluate: Callable[[Mapping[str, Any]], Any] = _evaluator(code.fn, compiler.needs_env, self._locate)
        self._tree, self._declared = tree, declared
        self._traced_run: Fn | None = None

    def evaluate_traced(self, bindings: Mapping[str, Any]) -> Traced:
        """Evaluate while recording every sub-expression's value; never raises a `DslError`.
        Bounded as `evaluate` is (the same budget and clock); the first `TRACE_STEPS_MAX` steps
        are recorded."""
        traced_run = self._traced_run
        if traced_run is None:
            traced_run = self._compile_traced()
        if not isinstance(bindings, Mapping):
            return Traced(None, DslEvalError(f"bindings must be a mapping, not {type(bindings).__name__}"))
        steps: list = []
        try:
            env: dict = dict(bindings)
            env[BUDGET], env[TRACE] = Budget(COST_MAX, env.get(DEADLINE)), steps
            return Traced(traced_run(env), None, steps)
        except DslError as exc:
            return Traced(None, exc, steps)
        except Exception as exc:  # noqa: BLE001 - whatever else escapes is reported as a DslError (D9)
            return Traced(None, _unexpected(exc), steps)

    def _compile_traced(self) -> Fn:
        """Build the traced closures once, whichever thread asks first (double-checked)."""
        with _TRACED_COMPILE_LOCK:
            if self._traced_run is None:
                self._traced_run = Compiler(self.source, self._declared, tracer=record).compile(self._tree).fn
            return self._traced_run

    def _locate(self, error: DslEvalError, bindings: Mapping[str, Any], deadline: float | None = None) -> None:
        """Give an evaluation error the span of the sub-expression that raised it. Only failing
        evaluations pay: they are replayed traced, within the failed evaluation's deadline, and the
        innermost step that raised the final error (the same exception object travels up to the
        root) is the culprit."""
        replay: Mapping[Any, Any] = bindings if deadline is None else {**bindings, DEADLINE: deadline}
        traced = self.evaluate_traced(replay)
        if traced.error is None or traced.error.code != error.code:
            return
        for step in traced.steps:
            if step.error is traced.error:
                error.offset, error.end = step.start, step.end
                return

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def _evaluator(
    run: Fn, private_env: bool, locate: Callable[[DslEvalError, Any, float | None], None]
) -> Callable[[Mapping[str, Any]], Any]:
    if private_env:
        # Comprehension variables and the cost budget live in a copy, never in the caller's dict.
        def evaluate_in_copy(bindings: Mapping[str, Any]) -> Any:
            try:
                env: dict[Any, Any] = dict(bindings)  # str keys, and the sentinel keys of dsl.compiling
                env[BUDGET] = budget = Budget(COST_MAX, env.get(DEADLINE))
                return run(env)
            except DslEvalError as exc:
                locate(exc, bindings, budget.ends_by())
                raise
            except DslError:
                raise
            except Exception as exc:
                raise _unexpected(exc) from exc

        return evaluate_in_copy

    def evaluate(bindings: Mapping[str, Any]) -> Any:
        try:
            return run(bindings)
        except DslEvalError as exc:
            locate(exc, bindings, None)
            raise
        except DslError:
            raise
        except Exception as exc:
            raise _unexpected(exc) from exc

    return evaluate


def _unexpected(exc: Exception) -> DslError:
    """Whatever else escapes (deep recursion, bindings that are not a mapping) still surfaces as a
    `DslError`, so a rule can never fail an event (D9)."""
    if isinstance(exc, RecursionError):
        return DslLimitError("evaluation nested too deeply", code="DSL_LIMIT_DEPTH")
    return DslEvalError(f"evaluation failed: {type(exc).__name__}: {exc}")


def compile_expression(text: str, variables: Iterable[str] | None = None) -> Expression:
    """Parse and compile `text`. `variables` lists the top-level names it may read (None accepts
    any name and resolves it at evaluation). Raises a positioned `DslError` on any problem."""
    declared = None if variables is None else frozenset(variables)
    try:
        return Expression(text, parse(text), declared)
    except DslError:
        raise
    except RecursionError as exc:
        raise DslLimitError("expression nests too deeply", code="DSL_LIMIT_DEPTH") from exc


def _equality_guards(tree: Node, declared: frozenset[str] | None) -> dict[str, Any]:
    """`a.b == 'x' && ...` -> {"a.b": "x"}: the conjuncts that an index of rules can use."""
    guards: dict[str, Any] = {}
    pending = [tree]
    while pending:
        node = pending.pop()
        if node.kind == "and":
            pending.extend(node.args)
            continue
        if node.kind != "eq":
            continue
        left, right = node.args
        if left.kind == "literal":
            left, right = right, left
        path = left.dotted_name()
        if path is None or right.kind != "literal" or type(right.args[0]) not in _GUARD_TYPES:
            continue
        if declared is not None and not any(path == v or path.startswith(v + ".") for v in declared):
            continue
        guards[path] = right.args[0]
    return guards
