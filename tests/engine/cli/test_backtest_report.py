"""What `accrual backtest` prints: tables of what changed, and the values `--fail-on` compares."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from engine.cli.backtest_report import difference_lines, threshold_values
from engine.replay.difference import AssetChange, BudgetChange, Difference, RuleChange
from engine.replay.outcomes import AssetFlows, RuleCounts


def _difference(**fields) -> Difference:
    given = {
        "events": 5,
        "participants": 2,
        "changed_events": 1,
        "rules": [RuleChange(rule="earn", before=RuleCounts(matched=5), after=RuleCounts(matched=4, skipped=1))],
        "assets": [
            AssetChange(
                asset="PTS",
                before=AssetFlows(credited=Decimal(50)),
                after=AssetFlows(credited=Decimal(40)),
                liability_change=Decimal(-10),
            )
        ],
        "budgets": [BudgetChange(rule="earn", before=None, after=datetime(2026, 11, 2, tzinfo=UTC))],
        "participant_changes": [],
        "samples": [],
        "reproduced": False,
        "mismatches": 2,
        "mismatch_samples": [],
    }
    return Difference(**(given | fields))


def test_the_tables_show_rules_assets_and_budgets_and_the_reproduction_check():
    lines = difference_lines(_difference())
    assert "baseline does not reproduce 2 recorded outcomes (edited rules?)" in lines
    rows = [line.split() for line in lines]
    assert ["earn", "5/0/0", "4/1/0"] in rows
    assert ["PTS", "credited", "50", "40", "-10"] in rows and ["PTS", "liability", "-10"] in rows
    assert ["earn", "never", "2026-11-02T00:00:00Z"] in rows


def test_threshold_values_and_an_empty_difference():
    values = threshold_values(_difference())
    assert values == {
        "changed_events": 1,
        "participants": 0,
        "mismatches": 2,
        "liability": 10,  # the largest change either way
    }
    nothing = _difference(changed_events=0, rules=[], assets=[], budgets=[], reproduced=True, mismatches=0)
    assert difference_lines(nothing)[-1] == "no difference"
