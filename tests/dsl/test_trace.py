"""Traced evaluation: every sub-expression's value or error, with its source span."""

from __future__ import annotations

from dsl import DslEvalError, compile_expression


def steps(text: str, bindings: dict, variables: set | None = None) -> list[tuple[str, object]]:
    traced = compile_expression(text, variables).evaluate_traced(bindings)
    return [(step.text, step.error.code if step.error else step.value) for step in traced.steps]


def test_steps_in_post_order_with_spans(snapshot) -> None:
    traced = compile_expression("event.amount * 2.0 > 10.0 && 'vip' in event.tags", {"event"}).evaluate_traced(
        {"event": {"amount": 7.5, "tags": ["vip"]}}
    )
    assert traced.value is True and traced.error is None
    assert [(s.start, s.end, s.text, s.value) for s in traced.steps] == snapshot
    source = "event.amount * 2.0 > 10.0 && 'vip' in event.tags"
    assert all(source[s.start : s.end] == s.text for s in traced.steps)


def test_errors_are_recorded_and_absorbed() -> None:
    recorded = steps("event.missing > 1.0 || true", {"event": {}}, {"event"})
    assert recorded == [
        ("event", {}),
        ("event.missing", "DSL_NO_SUCH_KEY"),
        ("event.missing > 1.0", "DSL_NO_SUCH_KEY"),
        ("true", True),
        ("event.missing > 1.0 || true", True),
    ]


def test_a_failing_evaluation_returns_the_error() -> None:
    traced = compile_expression("1 / x").evaluate_traced({"x": 0})
    assert traced.value is None and isinstance(traced.error, DslEvalError)
    assert traced.error.code == "DSL_DIVIDE_BY_ZERO"
    assert traced.steps[-1].text == "1 / x" and traced.steps[-1].error is traced.error


def test_comprehension_bodies_are_traced_per_iteration() -> None:
    recorded = steps("[1, 2].map(x, x + 1)", {})
    assert recorded.count(("x + 1", 2)) == 1 and recorded.count(("x + 1", 3)) == 1
    assert recorded[-1] == ("[1, 2].map(x, x + 1)", [2, 3])


def test_tracing_does_not_change_plain_evaluation() -> None:
    expr = compile_expression("a + 1")
    assert expr.evaluate_traced({"a": 1}).value == 2
    assert expr.evaluate({"a": 1}) == 2


def test_bindings_that_are_not_a_mapping() -> None:
    traced = compile_expression("a").evaluate_traced([1])  # type: ignore[arg-type]
    assert traced.error is not None and traced.error.code == "DSL_EVAL"
