"""Name resolution: declared variables, qualified (dotted) names, comprehension scopes, run-time mode."""

from __future__ import annotations

import pytest

from dsl import DslEvalError, DslNameError, compile_expression


def test_declared_variable_fields() -> None:
    expr = compile_expression("event.a.b.c.d", {"event"})
    assert expr.evaluate({"event": {"a": {"b": {"c": {"d": 4}}}}}) == 4
    assert expr.variables == {"event"}


def test_dotted_binding_names_take_the_longest_prefix() -> None:
    assert compile_expression("a.b.c", {"a.b.c"}).evaluate({"a.b.c": "yes"}) == "yes"
    assert compile_expression("a.b.c", {"a.b"}).evaluate({"a.b": {"c": "via a.b"}}) == "via a.b"
    both = {"a.b": {"c": "oops"}, "a.b.c": "yes"}
    assert compile_expression("a.b.c").evaluate(both) == "yes"
    assert compile_expression("a.b.c", {"a.b", "a.b.c"}).evaluate(both) == "yes"
    assert compile_expression("a.b.c", {"a.b", "a.b.c"}).variables == {"a.b.c"}


def test_comprehension_variables_shadow_bindings() -> None:
    expr = compile_expression("[{'z': 0}].exists(y, y.z == 0)")
    assert expr.evaluate({"y.z": 42}) is True
    expr = compile_expression("[1, 2].all(event, event > 0) && event.ok", {"event"})
    assert expr.evaluate({"event": {"ok": True}}) is True


def test_nested_comprehensions_with_the_same_variable() -> None:
    expr = compile_expression("[[1, 2], [3]].map(x, x.map(x, x * 10))")
    assert expr.evaluate({}) == [[10, 20], [30]]


def test_missing_binding_of_a_declared_variable() -> None:
    with pytest.raises(DslEvalError) as caught:
        compile_expression("event.a", {"event"}).evaluate({})
    assert caught.value.code == "DSL_UNBOUND"


def test_unknown_names_at_run_time_without_declared_variables() -> None:
    expr = compile_expression("x || true")
    assert expr.evaluate({}) is True
    with pytest.raises(DslEvalError) as caught:
        compile_expression("x").evaluate({})
    assert caught.value.code == "DSL_UNBOUND"


def test_unknown_name_error_points_at_the_name() -> None:
    with pytest.raises(DslNameError) as caught:
        compile_expression("1 + \n  participnt.x", {"participant"})
    assert (caught.value.line, caught.value.column, caught.value.suggestion) == (2, 3, "participant")


@pytest.mark.parametrize(
    ("value", "code"),
    [({}, "DSL_NO_SUCH_KEY"), ({"a": 5}, "DSL_NO_MATCHING_OVERLOAD"), ({"a": [1]}, "DSL_NO_MATCHING_OVERLOAD"),
     ({"a": "s"}, "DSL_NO_MATCHING_OVERLOAD"), ({"a": {}}, "DSL_NO_SUCH_KEY")],
)  # fmt: skip
def test_fused_selection_reports_the_precise_error(value: dict, code: str) -> None:
    for text in ("x.a.b", "x.a.b == 1", "x.a.b > 1.0", "x.a.b * 2.0"):
        with pytest.raises(DslEvalError) as caught:
            compile_expression(text, {"x"}).evaluate({"x": value})
        assert caught.value.code == code, text


def test_selection_through_an_optional_binding() -> None:
    from dsl import Optional

    expr = compile_expression("x.a.orValue(0) + 1", {"x"})
    assert expr.evaluate({"x": Optional.of({"a": 41})}) == 42
    assert expr.evaluate({"x": Optional.none()}) == 1
