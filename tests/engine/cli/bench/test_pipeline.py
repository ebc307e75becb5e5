"""The pipeline benchmark runs end to end on real processes and reports both figures."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.cli.bench.pipeline import Report, Run, render


def test_render_shows_both_rates_and_their_ratio():
    report = Report(
        rules=10, runs=[Run(workers=2, events=1000, events_per_s=150.0, trivial_tasks=1000, trivial_per_s=300.0)]
    )
    lines = render(report)
    assert "program of 10 rules" in lines[0]
    assert lines[2].split() == ["2", "1000", "150", "300", "50%"]
    assert not any("processing alone" in line for line in lines)


@pytest.mark.slow
def test_bench_pipeline_command_measures_a_real_run():
    result = CliRunner().invoke(main, ["bench", "pipeline", "--events", "60", "--workers", "1", "--rules", "2"])
    assert result.exit_code == 0, result.output
    row = result.output.splitlines()[2].split()
    assert row[:2] == ["1", "60"] and float(row[2]) > 0 and float(row[3]) > 0
    alone = result.output.splitlines()[-3]
    assert alone.startswith("processing alone") and float(alone.split(": ")[1].split()[0]) > 0
    steps = dict(step.rsplit(" ", 1) for step in result.output.splitlines()[-2].split(": ")[1].split(", "))
    assert set(steps) == {"context", "evaluate", "write", "claim and commit"}
    assert all(float(steps[step]) > 0 for step in ("context", "evaluate", "write"))
    rows = dict(row.split() for row in result.output.splitlines()[-1].split(": ")[1].split(", "))
    # every credit is one entry of two postings (printed to a tenth)
    assert float(rows["rule_evaluation"]) > 0 and float(rows["journal_entry"]) > 0
    assert abs(float(rows["posting"]) - 2 * float(rows["journal_entry"])) <= 0.15


@pytest.mark.slow
@pytest.mark.postgres
def test_bench_pipeline_runs_on_postgresql_and_redis():
    database, queue = os.environ.get("TEST_POSTGRES_URL"), os.environ.get("TEST_REDIS_URL")
    if not (database and queue):
        pytest.skip("TEST_POSTGRES_URL and TEST_REDIS_URL are not set (tests/services/services.sh starts them)")
    arguments = ["--events", "60", "--workers", "1", "--rules", "2", "--database", database, "--queue", queue]
    result = CliRunner().invoke(main, ["bench", "pipeline", *arguments])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "PostgreSQL, Redis queue" in lines[0]
    row = lines[2].split()
    assert row[:2] == ["1", "60"] and float(row[2]) > 0 and float(row[3]) > 0
    assert lines[-3].startswith("processing alone") and float(lines[-3].split(": ")[1].split()[0]) > 0


def test_render_states_each_part_s_cpu_per_event():
    run = Run(workers=2, events=1000, events_per_s=150.0, trivial_tasks=1000, trivial_per_s=300.0,
              cpu_ms={"API": 0.9, "workers": 2.531, "database": 1.25})  # fmt: skip
    lines = render(Report(rules=10, runs=[run]))
    assert "CPU ms per event, 2 worker(s): API 0.90, workers 2.53, database 1.25" in lines
