"""`accrual status`: the screen of a quiet and of a troubled installation, and a database without
the schema refused."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner

from engine.cli.main import main
from engine.cli.status import render
from engine.store.rule_health import RuleErrorCount
from engine.store.vitals import Latency, Vitals

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def figures(**changes) -> Vitals:
    base = {
        "now": NOW,
        "events_by_status": {},
        "queue_depth": {},
        "oldest_pending_age_s": None,
        "latency": Latency(),
        "webhook_attempts": {"success": 0, "failure": 0},
        "webhook_backlog": 0,
        "webhook_circuits_open": 0,
        "rule_errors": [],
        "rollup_behind": 0,
    }
    return Vitals(**{**base, **changes})


def test_a_quiet_installation():
    lines = render(figures())
    assert lines[1] == "events, last hour: completed 0, failed 0, pending 0, processing 0"
    assert "no events processed" in lines[3] and lines[-1] == "rule errors, last hour: none"


def test_a_troubled_installation_names_the_worst_rules_first():
    latency = Latency(buckets=[(0.1, 50), (1.0, 98), (5.0, 100)], count=100, total_s=31.5)
    rules = [
        RuleErrorCount("p1", "r1", "coupon", events=100, errors=3, timeouts=0),
        RuleErrorCount("p1", "r2", "weekend", events=100, errors=40, timeouts=2),
    ]
    lines = render(
        figures(
            events_by_status={"COMPLETED": 99, "FAILED": 1},
            queue_depth={"PENDING": 7},
            oldest_pending_age_s=12.34,
            latency=latency,
            webhook_circuits_open=1,
            rule_errors=rules,
        ),
        rule_lines=1,
    )
    assert lines[2] == "queue: pending 7, processing 0, oldest pending 12.3 s"
    assert lines[3] == "processing latency, last hour: 100 events, mean 0.315 s, median <= 0.1 s, p99 <= 5.0 s"
    assert "circuits open 1" in lines[4]
    assert lines[-2:] == [
        "rule errors, last hour: 2 rule(s)",
        "  weekend (r2, program p1): 40 errors, 2 timeouts in 100 events (42.0%)",
    ]


def test_status_refuses_a_database_without_the_schema(tmp_path):
    result = CliRunner().invoke(main, ["status", "--database-url", f"sqlite:///{tmp_path / 'empty.db'}"])
    assert result.exit_code == 1 and "accrual db upgrade" in result.output
