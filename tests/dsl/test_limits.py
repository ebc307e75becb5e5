"""The limits module: the budget and the size checks raise DslLimitError with stable codes."""

from __future__ import annotations

import pytest

from dsl import limits
from dsl.errors import DslLimitError
from dsl.limits import (
    BYTES_LENGTH_MAX,
    CLOCK_EVERY,
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


def test_a_budget_stops_at_its_deadline_once_it_reads_the_clock() -> None:
    import time

    budget = Budget(deadline=time.monotonic() - 1.0)
    budget.charge(CLOCK_EVERY - 1)  # no reading yet: a cheap evaluation never reads the clock
    with pytest.raises(DslLimitError) as caught:
        budget.charge(2)
    assert caught.value.code == "DSL_LIMIT_TIME"


def test_an_expression_honours_the_deadline_in_its_bindings() -> None:
    import time

    from dsl import DEADLINE, compile_expression

    expr = compile_expression("r.all(a, r.all(b, a + b >= 0))")
    with pytest.raises(DslLimitError) as caught:
        expr.evaluate({"r": list(range(100)), DEADLINE: time.monotonic() - 1.0})
    assert caught.value.code == "DSL_LIMIT_TIME"
    assert expr.evaluate({"r": list(range(100)), DEADLINE: time.monotonic() + 60.0}) is True


def test_a_budget_reads_the_clock_every_clock_every_units(monkeypatch: pytest.MonkeyPatch) -> None:
    readings = []
    monkeypatch.setattr(limits, "_clock", lambda: readings.append(1) or 0.0)
    budget = Budget()
    # a reading at the first charge that takes it more than CLOCK_EVERY past the last reading
    for _ in range(10 * (CLOCK_EVERY + 100) // 100):
        budget.charge(100)
    assert len(readings) == 10
