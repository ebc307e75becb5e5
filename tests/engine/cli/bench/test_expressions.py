"""The expression benchmark: every case agrees with its hand-written twin, and the report prints."""

from __future__ import annotations

from click.testing import CliRunner

from dsl import compile_expression
from engine.cli import main
from engine.cli.bench.expressions import BINDINGS, CASES, VARIABLES, Row, geometric_mean, measure, report


def test_at_least_ten_cases_and_each_agrees_with_python() -> None:
    assert len(CASES) >= 10
    for text, by_hand in CASES:
        assert compile_expression(text, VARIABLES).evaluate(BINDINGS) == by_hand(BINDINGS), text


def test_measure_and_report() -> None:
    rows = measure(repeats=1, loops=5)
    assert len(rows) == len(CASES) and all(row.compiled_ns > 0 and row.python_ns > 0 for row in rows)
    text = report(rows)
    assert "geometric-mean ratio" in text and text.count("\n") == len(rows) + 1


def test_geometric_mean() -> None:
    assert abs(geometric_mean([1.0, 4.0]) - 2.0) < 1e-9
    assert Row("x", 30.0, 10.0, 1.0).ratio == 3.0


def test_cli_command() -> None:
    result = CliRunner().invoke(main, ["bench", "expressions", "--repeats", "1", "--loops", "5"])
    assert result.exit_code == 0, result.output
    assert "geometric-mean ratio" in result.output
