"""The limits module: the budget and the size checks raise DslLimitError with stable codes."""

from __future__ import annotations

import pytest

from dsl.errors import DslLimitError
from dsl.limits import (
    BYTES_LENGTH_MAX,
    LIST_LENGTH_MAX,
    STRING_LENGTH_MAX,
    Budget,
    check_bytes,
    check_length,
    check_string,
)


def test_budget_runs_out() -> None:
    budget = Budget(10)
    budget.charge(10)
    with pytest.raises(DslLimitError) as caught:
        budget.charge(1)
    assert caught.value.code == "DSL_LIMIT_COST"


@pytest.mark.parametrize(
    ("check", "ok", "too_big", "code"),
    [(check_string, "x" * STRING_LENGTH_MAX, "x" * (STRING_LENGTH_MAX + 1), "DSL_LIMIT_STRING"),
     (check_bytes, b"x" * BYTES_LENGTH_MAX, b"x" * (BYTES_LENGTH_MAX + 1), "DSL_LIMIT_BYTES"),
     (check_length, [0] * LIST_LENGTH_MAX, [0] * (LIST_LENGTH_MAX + 1), "DSL_LIMIT_LIST")],
)  # fmt: skip
def test_size_checks(check, ok, too_big, code: str) -> None:  # type: ignore[no-untyped-def]
    assert check(ok) is ok
    with pytest.raises(DslLimitError) as caught:
        check(too_big)
    assert caught.value.code == code


def test_string_building_is_bounded_in_expressions() -> None:
    from dsl import compile_expression

    with pytest.raises(DslLimitError):
        compile_expression("s + s").evaluate({"s": "x" * (STRING_LENGTH_MAX // 2 + 1)})
    with pytest.raises(DslLimitError):
        compile_expression("l + l").evaluate({"l": [0] * (LIST_LENGTH_MAX // 2 + 1)})
