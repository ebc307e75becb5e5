"""Property tests: random texts and random well-formed expressions never crash the compiler or the
evaluator with anything but a `DslError`, and what they build stays within the limits."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import CelType, DslError, Optional, UInt, compile_expression
from dsl.functions import GLOBALS, METHODS
from dsl.limits import LIST_LENGTH_MAX, STRING_LENGTH_MAX

BINDINGS = {
    "x": 3, "y": 2.5, "s": "abc", "b": b"\x00\xff", "l": [1, 2, 3], "m": {"k": 1, "n": {"z": True}},
    "u": UInt(7), "t": datetime(2026, 1, 1, tzinfo=UTC), "d": timedelta(seconds=90), "n": None,
    "big": list(range(200)),
}  # fmt: skip
VARIABLES = set(BINDINGS)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_ATOMS = st.sampled_from(
    ["0", "1", "-1", "9223372036854775807", "1u", "0u", "1.5", "0.0", "-0.0", "1e308", "'a'", "''", "b'z'", "true",
     "false", "null", "[]", "{}", "[1, 'a']", "{'k': 2}", "x", "y", "s", "b", "l", "m", "u", "t", "d", "n", "big",
     "m.k", "m.n.z", "l[0]", "m.?k", "int", "string"]
)  # fmt: skip
_BINARY = st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "in", "&&", "||"])
_FUNCTIONS = sorted(name for name in GLOBALS if "." not in name or name.count(".") == 1)
_METHODS = sorted(METHODS)
_MACROS = ["all", "exists", "exists_one", "map", "filter"]


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, _BINARY, children).map(lambda p: f"({p[0]} {p[1]} {p[2]})"),
        st.tuples(st.sampled_from(["!", "-"]), children).map(lambda p: f"{p[0]}({p[1]})"),
        st.tuples(children, children, children).map(lambda p: f"({p[0]} ? {p[1]} : {p[2]})"),
        st.lists(children, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        st.tuples(children, children).map(lambda p: f"{{{p[0]}: {p[1]}}}"),
        st.tuples(children, children).map(lambda p: f"{p[0]}[{p[1]}]"),
        st.tuples(st.sampled_from(_FUNCTIONS), st.lists(children, max_size=3)).map(
            lambda p: f"{p[0]}({', '.join(p[1])})"
        ),
        st.tuples(children, st.sampled_from(_METHODS), st.lists(children, max_size=2)).map(
            lambda p: f"{p[0]}.{p[1]}({', '.join(p[2])})"
        ),
        st.tuples(children, st.sampled_from(_MACROS), children).map(lambda p: f"{p[0]}.{p[1]}(v, {p[2]})"),
        st.tuples(children, children).map(lambda p: f"{p[0]}.map(v, {p[1]})"),
    )


EXPRESSIONS = st.recursive(_ATOMS | st.just("v"), _combine, max_leaves=12)

_VALUE_TYPES = (type(None), bool, int, UInt, float, str, bytes, list, dict, datetime, timedelta, Optional, CelType)


def _check_value(value: object) -> None:
    assert isinstance(value, _VALUE_TYPES), type(value)
    if isinstance(value, (str, bytes)):
        assert len(value) <= STRING_LENGTH_MAX
    if isinstance(value, (list, dict)):
        assert len(value) <= LIST_LENGTH_MAX


def _run(text: str, variables: set | None) -> None:
    try:
        expr = compile_expression(text, variables)
    except DslError:
        return
    started = time.perf_counter()
    with contextlib.suppress(DslError):
        _check_value(expr.evaluate(dict(BINDINGS)))
    traced = expr.evaluate_traced(dict(BINDINGS))
    assert traced.error is None or isinstance(traced.error, DslError)
    assert time.perf_counter() - started < 5.0


@SETTINGS
@given(EXPRESSIONS)
def test_random_expressions_only_raise_dsl_errors(text: str) -> None:
    _run(text, None)
    _run(text, VARIABLES | {"v"})


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("()[]{}.,?:!-+*/%<>=&|'\"\\`bru0123456789xyzin _\n\t")), max_size=40))
def test_random_text_only_raises_dsl_errors(text: str) -> None:
    _run(text, None)


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=1, max_value=6))
def test_nested_comprehensions_stay_within_the_budget(depth: int) -> None:
    text = "true"
    for level in range(depth):
        text = f"big.all(v{level}, {text})"
    started = time.perf_counter()
    try:
        assert compile_expression(text).evaluate(BINDINGS) is True
    except DslError as exc:
        assert exc.code == "DSL_LIMIT_COST"
    assert time.perf_counter() - started < 5.0
