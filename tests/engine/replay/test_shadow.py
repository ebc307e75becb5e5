"""Shadow comparisons, pure: an event's live and shadow outcomes, and a shadow's rows folded into
the backtest's shapes (live before, shadow after)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from engine.model.result import EvaluationResult, ResolvedAction, ResolvedTarget, RuleOutcome, RuleStatus
from engine.model.state import EntityState, ProgramState
from engine.replay.shadow import compare_event, live_outcome, shadow_report

AT = datetime(2026, 1, 1, tzinfo=UTC)


def result(amount: str | None, *, status: RuleStatus = RuleStatus.MATCHED) -> EvaluationResult:
    actions = (
        []
        if amount is None
        else [
            ResolvedAction(
                rule="earn",
                index=0,
                type="CREDIT",
                target=ResolvedTarget(type="PARTICIPANT", role="participant"),
                asset="PTS",
                amount=Decimal(amount),
            )
        ]
    )
    return EvaluationResult(
        status="COMPLETED",
        evaluated_at=AT,
        rules=[RuleOutcome(rule="earn", order=10, status=status, actions=actions)],
        actions=actions,
        state_changes=[],
        budget_uses=[],
        participant=EntityState(),
        program=ProgramState(),
    )


def row(live: EvaluationResult, shadow: EvaluationResult | None, *, error=None, live_status="COMPLETED") -> dict:
    compared = compare_event(
        live_outcome(live, live_status, None if live_status == "COMPLETED" else "x"), shadow, error
    )
    return {
        "event_id": "e",
        "participant_id": "p",
        "live": compared.live,
        "shadowed": compared.shadow,
        "live_flows": compared.live_flows,
        "shadow_flows": compared.shadow_flows,
        "differs": compared.differs,
    }


def test_the_same_outcome_does_not_differ_and_another_amount_does():
    assert row(result("2"), result("2"))["differs"] is False
    changed = row(result("2"), result("6"))
    assert changed["differs"] is True and changed["shadow_flows"]["PTS"]["credited"] == "6"


def test_a_live_refusal_moves_nothing_and_an_error_lists_no_rule():
    refused = row(result("2"), result("2"), live_status="FAILED")
    assert refused["differs"] is True and refused["live_flows"] == {}
    errored = row(result("2"), None, error=("shadow_compile_error", "bad"))
    assert errored["shadowed"] == {"status": "ERROR", "error_code": "shadow_compile_error", "rules": []}


def test_the_report_counts_rules_assets_errors_and_samples_the_differences():
    rows = [
        row(result("2"), result("6")),
        row(result("1"), result("1")),
        row(result("1"), result(None, status=RuleStatus.SKIPPED_ERROR)),
        row(result("1"), None, error=("shadow_evaluation_error", "boom")),
    ]
    report = shadow_report(rows, ["earn"], sample=1)
    assert (report.events, report.differing, report.errors) == (4, 3, 1)
    assert report.error_codes == {"shadow_evaluation_error": 1}
    (earn,) = report.rules
    assert (earn.before.matched, earn.after.matched, earn.after.erroring) == (4, 2, 1)
    (pts,) = report.assets
    assert (pts.before.credited, pts.after.credited, pts.liability_change) == (Decimal(5), Decimal(7), Decimal(2))
    assert len(report.samples) == 1 and report.samples[0].candidate["rules"][0]["actions"][0]["amount"] == Decimal(6)
