"""The Expression object: evaluate, variables, equality guards, constants and error surfaces."""

from __future__ import annotations

import sys
import threading

import pytest

from dsl import DslEvalError, DslLimitError, compile_expression

VARIABLES = {"event", "participant", "recipient", "program", "now"}


def test_equality_guards_of_top_level_conjuncts() -> None:
    expr = compile_expression(
        "event.type == 'purchase' && 'DE' == participant.attributes.country && (event.x == 1 || event.y == 2)"
        " && event.amount > 10.0 && event.n == 3",
        VARIABLES,
    )
    assert expr.equality_guards == {"event.type": "purchase", "participant.attributes.country": "DE", "event.n": 3}


def test_no_guards_without_a_top_level_conjunction() -> None:
    assert compile_expression("event.type == 'a' || event.type == 'b'", VARIABLES).equality_guards == {}
    assert compile_expression("event.type == event.kind", VARIABLES).equality_guards == {}


def test_variables_read() -> None:
    expr = compile_expression("event.a > 1.0 && participant.tags.exists(t, t == 'x')", VARIABLES)
    assert expr.variables == {"event", "participant"}
    assert compile_expression("1 + 1", VARIABLES).variables == frozenset()


def test_source_is_kept() -> None:
    assert compile_expression("1 + 1").source == "1 + 1"


def test_bindings_that_are_not_a_mapping_give_a_dsl_error() -> None:
    with pytest.raises(DslEvalError):
        compile_expression("a", {"a"}).evaluate([1, 2])  # type: ignore[arg-type]
    with pytest.raises(DslEvalError):
        compile_expression("[1].all(x, a)", {"a"}).evaluate(None)  # type: ignore[arg-type]


def test_foreign_values_in_bindings_give_a_dsl_error() -> None:
    with pytest.raises(DslEvalError):
        compile_expression("a < b").evaluate({"a": object(), "b": object()})


def test_deep_data_cannot_crash_the_evaluator() -> None:
    with pytest.raises(DslLimitError):
        compile_expression("d == d2").evaluate({"d": _nest(10_000), "d2": _nest(10_000)})


def _nest(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def test_one_expression_is_safe_to_share_between_threads() -> None:
    expr = compile_expression("xs.map(x, x * k)")
    results: list = []

    def work(k: int) -> None:
        for _ in range(200):
            results.append(expr.evaluate({"xs": [1, 2, 3], "k": k}) == [k, 2 * k, 3 * k])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 800 and all(results)


def test_the_lazy_traced_tree_is_built_once_when_threads_race_for_it() -> None:
    expr = compile_expression("xs.map(x, x * k).size() > 2 && k != 0")
    start = threading.Barrier(8)
    seen: list = []

    def work(k: int) -> None:
        start.wait()
        built = expr._compile_traced()  # what evaluate_traced calls on a first use
        traced = expr.evaluate_traced({"xs": [1, 2, 3], "k": k})
        seen.append((built, traced.value, len(traced.steps)))

    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible while they build the tree
    try:
        threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 9)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch_interval)
    assert len({id(run) for run, _, _ in seen}) == 1
    assert [(value, steps) for _, value, steps in seen] == [(True, seen[0][2])] * 8 and seen[0][2] > 5


def test_evaluation_errors_carry_the_span_of_the_failing_sub_expression() -> None:
    source = "event.a > 1.0 || event.b.c == 'x'"
    with pytest.raises(DslEvalError) as caught:
        compile_expression(source, VARIABLES).evaluate({"event": {"b": {}}})
    error = caught.value
    assert error.code == "DSL_NO_SUCH_KEY" and source[error.offset : error.end] == "event.b.c"
    with pytest.raises(DslEvalError) as caught:
        compile_expression("[1, 0].map(x, 10 / x)").evaluate({})
    assert (caught.value.offset, caught.value.end) == (14, 20)
