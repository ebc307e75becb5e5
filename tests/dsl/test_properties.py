"""Property tests: random texts and random well-formed expressions never crash the compiler or the
evaluator with anything but a `DslError`, what they build stays within the limits, and no
evaluation, against small bindings or against a random event with lists of 10,000 and texts of
50,000 characters, takes longer than the bound (`dsl.limits.TIME_MAX_S`). Derandomized: the same
examples every run."""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import CelType, DslError, Optional, UInt, compile_expression
from dsl.functions import GLOBALS, METHODS
from dsl.limits import LIST_LENGTH_MAX, STRING_LENGTH_MAX, TIME_MAX_S

BINDINGS = {
    "x": 3, "y": 2.5, "s": "abc", "b": b"\x00\xff", "l": [1, 2, 3], "m": {"k": 1, "n": {"z": True}},
    "u": UInt(7), "t": datetime(2026, 1, 1, tzinfo=UTC), "d": timedelta(seconds=90), "n": None,
    "big": list(range(200)), "huge": list(range(10_000)), "long": "x" * 50_000,
    "event": {"items": [float(i) for i in range(10_000)], "t": "t" * 9_999, "type": "h8"},
}  # fmt: skip
VARIABLES = set(BINDINGS)
SETTINGS = settings(
    max_examples=200, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
# CPU time past the deadline until the next reading of the clock (2,000 units), a collection at worst.
OVERSHOOT_S = 0.015

_ATOMS = st.sampled_from(
    ["0", "1", "-1", "9223372036854775807", "1u", "0u", "1.5", "0.0", "-0.0", "1e308", "'a'", "''", "b'z'", "true",
     "false", "null", "[]", "{}", "[1, 'a']", "{'k': 2}", "x", "y", "s", "b", "l", "m", "u", "t", "d", "n", "big",
     "m.k", "m.n.z", "l[0]", "m.?k", "int", "string", "huge", "long", "event", "event.items", "event.t", "''"]
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
    _evaluate_within_the_bound(expr, BINDINGS)


def _evaluate_within_the_bound(expr, bindings: dict) -> None:
    """Evaluate plain and traced: a value within the limits or a DslError, in bounded CPU time."""
    with _cpu_time() as spent, contextlib.suppress(DslError):
        _check_value(expr.evaluate(dict(bindings)))
    assert spent() <= TIME_MAX_S + OVERSHOOT_S, expr.source
    with _cpu_time() as spent:
        traced = expr.evaluate_traced(dict(bindings))
    assert traced.error is None or isinstance(traced.error, DslError)
    assert spent() <= TIME_MAX_S + OVERSHOOT_S, expr.source


@contextlib.contextmanager
def _cpu_time() -> Iterator[Callable[[], float]]:
    """The thread's CPU time inside the block, less the garbage collections of the whole process
    that happened to run in it (this test process holds hypothesis' and pytest's objects, and a
    full collection of them takes tens of milliseconds)."""
    collecting: list[float] = []
    spent_collecting = [0.0]

    def on_collection(phase: str, info: dict) -> None:
        if phase == "start":
            collecting.append(time.thread_time())
        elif collecting:
            spent_collecting[0] += time.thread_time() - collecting.pop()

    gc.callbacks.append(on_collection)
    started, ended = time.thread_time(), [0.0]
    try:
        yield lambda: ended[0] - started - spent_collecting[0]
    finally:
        ended[0] = time.thread_time()
        gc.callbacks.remove(on_collection)


@SETTINGS
@given(EXPRESSIONS)
def test_random_expressions_only_raise_dsl_errors(text: str) -> None:
    _run(text, None)
    _run(text, VARIABLES | {"v"})


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("()[]{}.,?:!-+*/%<>=&|'\"\\`bru0123456789xyzin _\n\t")), max_size=40))
def test_random_text_only_raises_dsl_errors(text: str) -> None:
    _run(text, None)


@settings(max_examples=50, deadline=None, derandomize=True, database=None)
@given(st.integers(min_value=1, max_value=6))
def test_nested_comprehensions_stay_within_the_budget(depth: int) -> None:
    text = "true"
    for level in range(depth):
        text = f"big.all(v{level}, {text})"
    with _cpu_time() as spent:
        try:
            assert compile_expression(text).evaluate(BINDINGS) is True
        except DslError as exc:
            assert exc.code in ("DSL_LIMIT_COST", "DSL_LIMIT_TIME")
    assert spent() <= TIME_MAX_S + OVERSHOOT_S


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False)
    | st.integers(-(2**53), 2**53).map(float)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from("abcxyz"), children, max_size=4),
    max_leaves=12,
)
# Random events: random JSON beside the large parts the ingest limits allow.
EVENTS = st.builds(
    lambda small, size, text: {"a": small, "b": small, "items": [float(i) for i in range(size)], "t": "t" * text},
    _JSON,
    st.sampled_from([0, 3, 100, 10_000]),
    st.sampled_from([0, 10, 9_999, 50_000]),
)
_EVENT_ATOMS = st.sampled_from(["event", "event.a", "event.b", "event.items", "event.t", "event.b.x", "event.?a",
                                "1.0", "'t'", "[]", "x", "0"])  # fmt: skip
EVENT_EXPRESSIONS = st.recursive(_EVENT_ATOMS | st.just("v"), _combine, max_leaves=12)


@settings(SETTINGS, max_examples=600)
@given(EVENT_EXPRESSIONS, EVENTS)
def test_random_expressions_against_random_events_stay_within_the_bound(text: str, event: dict) -> None:
    try:
        expr = compile_expression(text, {"event", "x", "v"})
    except DslError:
        return
    _evaluate_within_the_bound(expr, {"event": event, "x": 3})
