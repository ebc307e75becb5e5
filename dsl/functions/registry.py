"""The shape of a built-in function, shared by every function module and the compiler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dsl.errors import DslEvalError
from dsl.values import type_name


@dataclass(frozen=True, slots=True)
class Function:
    """One callable name of the language.

    `impl` receives evaluated arguments (a method's receiver first); `arities` counts the
    arguments without the receiver. Example: `Function("size", size, frozenset({0}), method=True)`
    serves `'abc'.size()`.

    The cost model (`dsl.limits`, A74): `cost` is what one call costs before its arguments' sizes
    count, in units (1 for a call as cheap as a node); a function whose work grows with its
    arguments has `needs_budget` and receives the evaluation's `Budget` first, to charge that
    work to before doing it.
    """

    name: str
    impl: Callable[..., Any]
    arities: frozenset[int]
    method: bool
    needs_budget: bool = False
    cost: int = 1


def function(name: str, impl: Callable[..., Any], *arities: int, budget: bool = False, cost: int = 1) -> Function:
    """A global or namespaced function: `size(x)`, `math.abs(x)`."""
    return Function(name, impl, frozenset(arities), method=False, needs_budget=budget, cost=cost)


def method(name: str, impl: Callable[..., Any], *arities: int, budget: bool = False, cost: int = 1) -> Function:
    """A receiver-style function: `x.size()`; `arities` excludes the receiver."""
    return Function(name, impl, frozenset(arities), method=True, needs_budget=budget, cost=cost)


def no_overload(name: str, *args: Any) -> DslEvalError:
    """The error for arguments of types a function does not accept, e.g. `size(1)`."""
    types = ", ".join(type_name(arg) for arg in args)
    return DslEvalError(f"no matching overload for '{name}' applied to ({types})", code="DSL_NO_MATCHING_OVERLOAD")


def invalid_argument(message: str) -> DslEvalError:
    return DslEvalError(message, code="DSL_INVALID_ARGUMENT")


def out_of_range(message: str) -> DslEvalError:
    return DslEvalError(message, code="DSL_RANGE")
