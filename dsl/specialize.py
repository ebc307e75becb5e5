"""Closures for operators, specialised at compile time on what is known then.

A compiled sub-expression is a `Code`: a closure `fn(env)` plus, when its value does not depend on
the bindings, that value. Operators with a constant operand get a closure that tests the other
operand's type once and uses Python's operator directly (`event.amount > 100.0` costs one `type()`
check and one float comparison); everything else falls back to `dsl.operators`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from dsl import operators
from dsl.errors import DslEvalError
from dsl.limits import BUDGET, SMALL_LIST, SMALL_TEXT, budget_of, compare_units, element_units, text_units
from dsl.values import UInt, cel_equals

Env = Any
Fn = Callable[[Env], Any]
# An operator's closure, and whether its work grows with its operands (then it charges the
# evaluation's budget for that work, and the compiler counts it, see `dsl.limits`).
Built = tuple[Fn, bool]

_NO_VALUE = object()


class Code:
    """A compiled sub-expression: `fn(env)` computes it; `value` is set when it is constant.

    `path` is set when `fn` reads `env[name][f1]...` (a variable and up to two fields): a parent
    operator can then do that lookup itself and save a call, falling back to `fn` for errors.
    """

    __slots__ = ("fn", "path", "value")

    def __init__(self, fn: Fn, value: Any = _NO_VALUE, path: tuple[str, ...] | None = None) -> None:
        self.fn, self.value, self.path = fn, value, path

    @property
    def constant(self) -> bool:
        return self.value is not _NO_VALUE


def constant(value: Any) -> Code:
    return Code(lambda env: value, value)


# Types whose Python comparison and equality agree with CEL's when both operands have that type.
_FAST_ORDER = frozenset((int, float, str, UInt, datetime, timedelta))
_FAST_EQUAL = frozenset((int, float, str, bool, UInt, type(None), bytes))

_RELATIONS: dict[str, tuple[Callable[[Any, Any], bool], Callable[[Any, Any], Any]]] = {
    "lt": (operators.lt, operator.lt),
    "le": (operators.le, operator.le),
    "gt": (operators.gt, operator.gt),
    "ge": (operators.ge, operator.ge),
}
_LOOKUP_ERRORS = (KeyError, TypeError, IndexError)


def fused_with_constant(left: Code, fast: Callable[[Any, Any], Any], slow: Callable[[Any, Any], Any], c: Any) -> Fn:
    """`event.amount > 100.0` as one closure: the lookup inline, then `fast` (a C-level operator)
    when the value has the constant's type, `slow` (the full CEL operator) otherwise."""
    assert left.path is not None
    general, kind_of_c = left.fn, type(c)
    if len(left.path) == 1:
        (name,) = left.path

        def run0(env: Env) -> Any:
            try:
                a = env[name]
            except _LOOKUP_ERRORS:
                a = general(env)
            return fast(a, c) if type(a) is kind_of_c else slow(a, c)

        return run0
    if len(left.path) == 2:
        name, f1 = left.path

        def run1(env: Env) -> Any:
            try:
                a = env[name][f1]
            except _LOOKUP_ERRORS:
                a = general(env)
            return fast(a, c) if type(a) is kind_of_c else slow(a, c)

        return run1
    name, f1, f2 = left.path

    def run2(env: Env) -> Any:
        try:
            a = env[name][f1][f2]
        except _LOOKUP_ERRORS:
            a = general(env)
        return fast(a, c) if type(a) is kind_of_c else slow(a, c)

    return run2


def selector(fn: Fn, field: str) -> Fn:
    """`x.field`, with a plain subscript when `x` is a map."""

    def select(env: Env) -> Any:
        value = fn(env)
        if type(value) is dict:
            try:
                return value[field]
            except KeyError:
                raise operators.no_such_key(field) from None
        return operators.select(value, field)

    return select


def relation(kind: str, left: Code, right: Code) -> Built:
    """`<`, `<=`, `>`, `>=`, with a fast path when an operand is a constant number or string (a
    comparison with a constant costs at most the constant's length)."""
    slow, fast = _RELATIONS[kind]
    lf, rf = left.fn, right.fn
    if right.constant and type(right.value) in _FAST_ORDER:
        if left.path is not None:
            return fused_with_constant(left, fast, slow, right.value), False
        return _relation_to_constant(kind, lf, right.value), False

    def run(env: Env) -> Any:
        a, b = lf(env), rf(env)
        kind_of_a = type(a)
        if kind_of_a is type(b):
            if kind_of_a is str or kind_of_a is bytes:
                if len(a) > SMALL_TEXT:
                    budget_of(env).charge(compare_units(1, min(len(a), len(b))))
                return fast(a, b)
            if kind_of_a in _FAST_ORDER:
                return fast(a, b)
        return slow(a, b)

    return run, True


def _relation_to_constant(kind: str, lf: Fn, c: Any) -> Fn:
    slow, fast = _RELATIONS[kind]
    kind_of_c = type(c)
    return lambda env: fast(a, c) if type(a := lf(env)) is kind_of_c else slow(a, c)


def equality(negate: bool, left: Code, right: Code) -> Built:
    """`==` / `!=` by CEL's heterogeneous equality, with a fast path for a constant operand (which
    bounds the work: strings of different lengths differ at once). Between two computed values,
    long texts and lists or maps charge what they compare."""
    if left.constant and not right.constant:
        left, right = right, left
    lf, rf = left.fn, right.fn
    if right.constant and type(right.value) in _FAST_EQUAL:
        c, kind_of_c = right.value, type(right.value)
        if left.path is not None:
            if negate:
                return fused_with_constant(left, operator.ne, _not_equals, c), False
            return fused_with_constant(left, operator.eq, cel_equals, c), False
        if negate:
            return (lambda env: (a != c) if type(a := lf(env)) is kind_of_c else not cel_equals(a, c)), False
        return (lambda env: (a == c) if type(a := lf(env)) is kind_of_c else cel_equals(a, c)), False

    def equals(env: Env) -> bool:
        a, b = lf(env), rf(env)
        kind_of_a = type(a)
        if kind_of_a is type(b) and kind_of_a in _FAST_EQUAL:
            if (kind_of_a is str or kind_of_a is bytes) and len(a) > SMALL_TEXT:
                budget_of(env).charge(compare_units(1, len(a)))
            return a == b
        return cel_equals(a, b, env.get(BUDGET))

    if negate:
        return (lambda env: not equals(env)), True
    return equals, True


def _not_equals(a: Any, b: Any) -> bool:
    return not cel_equals(a, b)


def membership(left: Code, right: Code) -> Built:
    """`x in [...]` against a constant list of strings becomes a set lookup; a constant string
    in a list or map uses Python's `in` (a string equals only strings, in both languages). A
    search through a list charges the list's length."""
    lf, rf = left.fn, right.fn
    if right.constant and type(right.value) is list and all(type(v) is str for v in right.value):
        members, items = frozenset(right.value), right.value
        return (lambda env: (a in members) if type(a := lf(env)) is str else operators.in_(a, items)), False
    if left.constant and type(left.value) is str:
        c = left.value

        def contains_constant(env: Env) -> Any:
            v = rf(env)
            if type(v) is dict:
                return c in v
            if type(v) is list:
                if len(v) > SMALL_LIST:
                    budget_of(env).charge(compare_units(len(v), len(c)))
                return c in v
            return operators.in_(c, v)

        return contains_constant, True
    return (lambda env: operators.in_(lf(env), rf(env), env.get(BUDGET))), True


_CONCATENATED = frozenset((str, bytes, list))
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "add": operators.add,
    "sub": operators.sub,
    "mul": operators.mul,
    "div": operators.div,
    "mod": operators.mod,
}
_FLOAT_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
}


def arithmetic(kind: str, left: Code, right: Code) -> Built:
    """`+ - * / %`; doubles, the common case of amounts (D7), skip the generic dispatch. `+` of
    two computed values may concatenate: it charges the length of what it builds."""
    slow, fast = _ARITHMETIC[kind], _FLOAT_OPS.get(kind)
    lf, rf = left.fn, right.fn
    if fast is None:
        return (lambda env: slow(lf(env), rf(env))), False
    if right.constant and type(right.value) is float and not (kind == "div" and right.value == 0.0):
        if left.path is not None:
            return fused_with_constant(left, fast, slow, right.value), False
        c = right.value
        return (lambda env: fast(a, c) if type(a := lf(env)) is float else slow(a, c)), False
    concatenates = kind == "add" and not any(
        part.constant and type(part.value) not in _CONCATENATED for part in (left, right)
    )

    def run(env: Env) -> Any:
        a, b = lf(env), rf(env)
        kind_of_a = type(a)
        if kind_of_a is float and type(b) is float and (b or kind != "div"):
            return fast(a, b)
        if concatenates and kind_of_a in _CONCATENATED and kind_of_a is type(b):
            length = len(a) + len(b)
            if kind_of_a is list:
                if length > SMALL_LIST:
                    budget_of(env).charge(element_units(length))
            elif length > SMALL_TEXT:
                budget_of(env).charge(text_units(length))
        return slow(a, b)

    return run, concatenates


def _short_circuit(decisive: bool, symbol: str) -> Callable[[Fn, Fn], Fn]:
    """`&&` (decided by false) and `||` (decided by true): the decisive value wins over errors on
    either side; a non-bool operand is an error."""
    other = not decisive

    def build(left: Fn, right: Fn) -> Fn:
        def run(env: Env) -> Any:
            try:
                a = left(env)
            except DslEvalError:
                if right(env) is decisive:
                    return decisive
                raise
            if a is other:
                b = right(env)
                if b is True or b is False:
                    return b
                operators.truth(b, symbol)
            if a is decisive:
                return decisive
            if right(env) is decisive:
                return decisive
            operators.truth(a, symbol)

        return run

    return build


logical_and = _short_circuit(False, "&&")
logical_or = _short_circuit(True, "||")


def conditional(condition: Fn, then: Fn, otherwise: Fn) -> Fn:
    def run(env: Env) -> Any:
        c = condition(env)
        if c is True:
            return then(env)
        if c is False:
            return otherwise(env)
        operators.truth(c, "?:")

    return run
