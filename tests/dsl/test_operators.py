"""CEL operator semantics: exact types, overflow, division, mixed numbers, ordering, membership."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from dsl import DslEvalError, UInt, compile_expression, operators


def run(text: str, **bindings: object) -> object:
    return compile_expression(text).evaluate(bindings)


def error_code(text: str, **bindings: object) -> str:
    with pytest.raises(DslEvalError) as caught:
        run(text, **bindings)
    return caught.value.code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7 / 2", 3), ("-7 / 2", -3), ("7 % 3", 1), ("-7 % 3", -1), ("7 % -3", 1),
        ("7u / 2u", UInt(3)), ("7u % 4u", UInt(3)), ("2.0 * 3.5", 7.0), ("1.0 / 4.0", 0.25),
        ("'ab' + 'cd'", "abcd"), ("b'a' + b'b'", b"ab"), ("[1] + [2]", [1, 2]),
        ("1 < 1.5", True), ("2u > 1", True), ("1.0 == 1", True), ("1u == 1.0", True),
        ("'a' < 'b'", True), ("b'a' < b'b'", True), ("false < true", True), ("[1] == [1.0]", True),
        ("{'a': 1} == {'a': 1.0}", True), ("1 == 'a'", False), ("null == null", True),
        ("2 in [1, 2]", True), ("2.0 in [1, 2]", True), ("'k' in {'k': 1}", True), ("3 in {1: 0}", False),
        ("-(-(2))", 2), ("!false", True),
    ],
)  # fmt: skip
def test_values(text: str, expected: object) -> None:
    result = run(text)
    assert result == expected and type(result) is type(expected)


def test_double_division_by_zero_follows_ieee() -> None:
    assert run("1.0 / 0.0") == math.inf and run("-1.0 / 0.0") == -math.inf
    assert math.isnan(run("0.0 / 0.0"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("9223372036854775807 + 1", "DSL_OVERFLOW"), ("-9223372036854775808 - 1", "DSL_OVERFLOW"),
        ("9223372036854775807 * 2", "DSL_OVERFLOW"), ("-(-9223372036854775807 - 1)", "DSL_OVERFLOW"),
        ("-9223372036854775808 / -1", "DSL_OVERFLOW"), ("0u - 1u", "DSL_OVERFLOW"),
        ("18446744073709551615u + 1u", "DSL_OVERFLOW"), ("1 / 0", "DSL_DIVIDE_BY_ZERO"),
        ("1 % 0", "DSL_DIVIDE_BY_ZERO"), ("1u / 0u", "DSL_DIVIDE_BY_ZERO"),
        ("1 + 1.0", "DSL_NO_MATCHING_OVERLOAD"), ("1 + 1u", "DSL_NO_MATCHING_OVERLOAD"),
        ("1.5 % 1.0", "DSL_NO_MATCHING_OVERLOAD"), ("'a' < 1", "DSL_NO_MATCHING_OVERLOAD"),
        ("null < null", "DSL_NO_MATCHING_OVERLOAD"), ("[1] < [2]", "DSL_NO_MATCHING_OVERLOAD"),
        ("-'a'", "DSL_NO_MATCHING_OVERLOAD"), ("!1", "DSL_NO_MATCHING_OVERLOAD"), ("-(1u)", "DSL_NO_MATCHING_OVERLOAD"),
        ("1 in 1", "DSL_NO_MATCHING_OVERLOAD"), ("[1][5]", "DSL_INVALID_ARGUMENT"),
        ("[1][0.5]", "DSL_INVALID_ARGUMENT"), ("{'a': 1}['b']", "DSL_NO_SUCH_KEY"),
        ("{1: 1, 1u: 2}", "DSL_INVALID_ARGUMENT"),
        ("{1.5: 1}", "DSL_INVALID_ARGUMENT"), ("1.foo", "DSL_NO_MATCHING_OVERLOAD"),
    ],
)  # fmt: skip
def test_errors(text: str, code: str) -> None:
    assert error_code(text) == code


def test_mixed_int_double_message_says_how_to_fix_it() -> None:
    with pytest.raises(DslEvalError) as caught:
        run("x * 10", x=2.5)
    assert "write 10.0 instead of 10" in caught.value.message


def test_int_double_comparison_converts_like_cel() -> None:
    # 2**63 - 1 becomes 2**63 as a double, as in the CEL specification.
    assert run("9223372036854775807 < 9223372036854775808.0") is False
    assert run("1 <= 1.0") is True


def test_timestamps_and_durations_order_and_add() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    assert run("t < t + d", t=moment, d=timedelta(hours=1)) is True
    assert run("t - t", t=moment) == timedelta(0)
    assert run("d + d > d", d=timedelta(seconds=1)) is True


def test_map_lookup_keeps_bool_and_int_keys_apart() -> None:
    assert run("{true: 'b', 2: 'i'}[true]") == "b"
    assert error_code("{true: 'b', 2: 'i'}[1]") == "DSL_NO_SUCH_KEY"
    assert error_code("{1: 'i'}[true]") == "DSL_NO_SUCH_KEY"
    assert error_code("{true: 'b', 1: 'i'}") == "DSL_INVALID_ARGUMENT"  # Python cannot hold both
    assert operators.in_(1.0, {1: 0}) is True


def test_optional_selection_and_index() -> None:
    assert run("{'a': 1}.?a.value()") == 1
    assert run("{'a': 1}.?b.hasValue()") is False
    assert run("[1][?3].hasValue()") is False
