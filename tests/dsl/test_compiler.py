"""Compile-time checks (unknown names and functions, arity), calls, logic and constant folding."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dsl import (
    CelType,
    DslArityError,
    DslEvalError,
    DslFunctionError,
    DslNameError,
    DslSyntaxError,
    compile_expression,
)

VARIABLES = {"event", "participant", "recipient", "program", "now"}


def test_unknown_variable_with_suggestion() -> None:
    with pytest.raises(DslNameError) as caught:
        compile_expression("evnt.amount > 1.0", VARIABLES)
    error = caught.value
    assert (error.code, error.suggestion, error.line, error.column, error.offset) == (
        "DSL_UNKNOWN_NAME", "event", 1, 1, 0)  # fmt: skip
    assert "did you mean 'event'" in str(error)


def test_unknown_function_with_suggestion() -> None:
    with pytest.raises(DslFunctionError) as caught:
        compile_expression("sise(event.items) > 2", VARIABLES)
    assert caught.value.code == "DSL_UNKNOWN_FUNCTION" and caught.value.suggestion == "size"


def test_unknown_method_and_namespaced_function() -> None:
    with pytest.raises(DslFunctionError) as caught:
        compile_expression("event.name.startWith('a')", VARIABLES)
    assert caught.value.suggestion == "startsWith" and caught.value.column == 12
    with pytest.raises(DslFunctionError) as caught:
        compile_expression("math.greatst(1, 2)", VARIABLES)
    assert caught.value.suggestion == "math.greatest"


def test_wrong_arity() -> None:
    with pytest.raises(DslArityError) as caught:
        compile_expression("size(1, 2)")
    assert caught.value.code == "DSL_ARITY" and caught.value.column == 1
    with pytest.raises(DslArityError) as caught:
        compile_expression("'a'.startsWith()")
    assert caught.value.column == 5


def test_has_needs_a_selection() -> None:
    with pytest.raises(DslSyntaxError):
        compile_expression("has(event)", VARIABLES)


def test_now_is_a_variable_and_a_call() -> None:
    moment = datetime(2026, 5, 1, tzinfo=UTC)
    assert compile_expression("now() == now", VARIABLES).evaluate({"now": moment}) is True
    assert compile_expression("now()", VARIABLES).variables == {"now"}
    with pytest.raises(DslNameError):
        compile_expression("now", {"event"})


def test_namespaced_functions_resolve_at_compile_time() -> None:
    assert compile_expression("math.greatest(1, 5, 3)").evaluate({}) == 5
    assert compile_expression("sets.contains([1, 2], [2])").evaluate({}) is True
    assert compile_expression("optional.of(1).value()").evaluate({}) == 1


def test_a_variable_shadows_a_namespace() -> None:
    expr = compile_expression("math.greatest", {"math"})
    assert expr.evaluate({"math": {"greatest": 7}}) == 7


def test_type_identifiers() -> None:
    assert compile_expression("type(1) == int && type('') == string", VARIABLES).evaluate({}) is True
    assert compile_expression("int", VARIABLES).evaluate({}) == CelType("int")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("false && 1 / 0 == 1", False), ("1 / 0 == 1 && false", False), ("true || 1 / 0 == 1", True),
        ("1 / 0 == 1 || true", True), ("true ? 1 : 1 / 0", 1), ("false ? 1 / 0 : 2", 2),
        ("'a' && false", False), ("false && 'a'", False), ("true || 'a'", True),
    ],
)  # fmt: skip
def test_logic_absorbs_errors_as_cel_says(text: str, expected: object) -> None:
    assert compile_expression(text).evaluate({}) == expected


@pytest.mark.parametrize("text", ["true && 1 / 0 == 1", "1 / 0 == 1 || false", "'a' ? 1 : 2", "true && 'a'",
                                  "'a' || 'b'", "x.missing && true"])  # fmt: skip
def test_logic_errors(text: str) -> None:
    with pytest.raises(DslEvalError):
        compile_expression(text).evaluate({"x": {}})


def test_errors_are_absorbed_even_when_operands_are_bindings() -> None:
    expr = compile_expression("event.missing > 1.0 || event.ok", VARIABLES)
    assert expr.evaluate({"event": {"ok": True}}) is True
    expr = compile_expression("event.missing > 1.0 && event.ok", VARIABLES)
    assert expr.evaluate({"event": {"ok": False}}) is False


@pytest.mark.parametrize(
    ("text", "constant"),
    [("1 + 2 * 3", True), ("[1, 2].map(x, x * 2)", True), ("[1, 2].map(x, x * event.a)", False),
     ("size('abc') == 3", True), ("event.a", False), ("1 / 0", False), ("false && event.a", True),
     ("event.a || true", True), ("timestamp('2026-01-01T00:00:00Z')", True)],
)  # fmt: skip
def test_constant_folding(text: str, constant: bool) -> None:
    assert compile_expression(text, VARIABLES).is_constant is constant


def test_a_folded_error_stays_an_evaluation_error() -> None:
    expr = compile_expression("1 / 0")
    with pytest.raises(DslEvalError) as caught:
        expr.evaluate({})
    assert caught.value.code == "DSL_DIVIDE_BY_ZERO"


def test_list_and_map_literals_with_optional_entries() -> None:
    expr = compile_expression("[1, ?x.?a, ?x.?b]", {"x"})
    assert expr.evaluate({"x": {"a": 2}}) == [1, 2]
    expr = compile_expression("{'k': 1, ?'o': x.?a}", {"x"})
    assert expr.evaluate({"x": {}}) == {"k": 1}
    with pytest.raises(DslEvalError):
        compile_expression("[?1]").evaluate({})


def test_map_literal_keys_evaluated_at_run_time() -> None:
    expr = compile_expression("{x: 1, 'b': 2}", {"x"})
    assert expr.evaluate({"x": "a"}) == {"a": 1, "b": 2}
    with pytest.raises(DslEvalError):
        expr.evaluate({"x": "b"})
