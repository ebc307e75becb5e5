"""The specialised closures agree with the general operators on every kind of operand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl import DslError, Optional, UInt, compile_expression, operators

VALUES = st.sampled_from(
    [0, 1, -1, 2**62, 1.5, 0.0, -0.0, float("nan"), float("inf"), UInt(1), True, False, "a", "", b"a", None, [1],
     {"k": 1}, datetime(2026, 1, 1, tzinfo=UTC), timedelta(seconds=1), Optional.of(1)]
)  # fmt: skip
CONSTANTS = ["0", "1", "2.5", "0.0", "1u", "'a'", "true", "null", "b'a'"]
OPERATORS = {"==": operators.eq, "!=": operators.ne, "<": operators.lt, "<=": operators.le, ">": operators.gt,
             ">=": operators.ge, "+": operators.add, "-": operators.sub, "*": operators.mul, "/": operators.div,
             "%": operators.mod, "in": operators.in_}  # fmt: skip


def outcome(fn, *args):  # type: ignore[no-untyped-def]
    try:
        value = fn(*args)
    except DslError as exc:
        return ("error", exc.code)
    return ("value", type(value), repr(value))


@settings(max_examples=200, deadline=None)
@given(VALUES, st.sampled_from(CONSTANTS), st.sampled_from(sorted(OPERATORS)), st.integers(0, 2))
def test_fused_and_constant_paths_agree_with_the_operators(value, constant, op, depth) -> None:  # type: ignore[no-untyped-def]
    path = "x" + ".f" * depth
    data: object = value
    for _ in range(depth):
        data = {"f": data}
    expected_constant = compile_expression(constant).evaluate({})
    expected = outcome(OPERATORS[op], value, expected_constant)
    for variables in ({"x"}, None):
        got = outcome(compile_expression(f"{path} {op} {constant}", variables).evaluate, {"x": data})
        assert got == expected, (path, op, constant, value)
    swapped = outcome(OPERATORS[op], expected_constant, value)
    assert outcome(compile_expression(f"{constant} {op} {path}", {"x"}).evaluate, {"x": data}) == swapped


@pytest.mark.parametrize(("text", "expected"), [("x / 0.0", float("inf")), ("x * 2.0", 5.0), ("x - 0.5", 2.0)])
def test_double_fast_paths(text: str, expected: float) -> None:
    assert compile_expression(text, {"x"}).evaluate({"x": 2.5}) == expected
