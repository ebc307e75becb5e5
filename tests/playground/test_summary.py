from datetime import UTC, datetime
from decimal import Decimal

from engine.model.result import EvaluationResult, ResolvedAction, ResolvedTarget, RuleOutcome, RuleStatus
from engine.model.state import Balance, EntityState, ProgramState
from playground.summary import api_status, summarize


def _action(kind: str, amount: int, status: str) -> ResolvedAction:
    target = ResolvedTarget(type="PARTICIPANT", role="participant")
    return ResolvedAction(
        rule="a", index=0, type=kind, target=target, asset="PTS", amount=Decimal(amount), status=status
    )


def test_statuses_read_as_the_api_reports_them():
    assert api_status("MATCHED") == ("SUCCESS", None)
    assert api_status("BUDGET_EXCEEDED") == ("SKIPPED", "BUDGET_EXCEEDED")
    assert api_status("NOT_MATCHED") == ("NOT_MATCHED", "not listed by the API")


def test_summary_counts_applied_credits_and_debits_and_balance_changes():
    before = EntityState(balances={"PTS": Balance(available=Decimal(10))})
    after = EntityState(balances={"PTS": Balance(available=Decimal(13)), "GEMS": Balance(available=Decimal(0))})
    result = EvaluationResult(
        status="COMPLETED",
        evaluated_at=datetime(2026, 1, 1, tzinfo=UTC),
        state_changes=[],
        budget_uses=[],
        program=ProgramState(),
        rules=[
            RuleOutcome(rule="a", order=1, status=RuleStatus.MATCHED),
            RuleOutcome(rule="b", order=2, status=RuleStatus.SKIPPED_ERROR),
        ],
        actions=[
            _action("CREDIT", 5, "APPLIED"),
            _action("DEBIT", 2, "APPLIED"),
            _action("CREDIT", 99, "SUPPRESSED"),
        ],
        participant=after,
    )
    summary = summarize(result, before)
    assert summary.matched == ["a"] and summary.errored == ["b"]
    [movement] = summary.movements
    assert (movement.asset, movement.credited, movement.debited) == ("PTS", Decimal(5), Decimal(2))
    [change] = summary.balances  # GEMS did not change
    assert (change.asset, change.before, change.after) == ("PTS", Decimal(10), Decimal(13))
