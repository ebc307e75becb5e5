"""engine.webhooks.messages: which webhook events a processed event makes, and who gets them."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.model.result import EvaluationResult, RuleOutcome, RuleStatus
from engine.model.state import EntityState, ProgramState
from engine.store.models import EventRecord
from engine.webhooks.endpoints import WebhookAdminError, check_enabled_events
from engine.webhooks.messages import event_messages, subscribed


def test_rule_errored_is_opt_in():
    assert not subscribed(["*"], "rule.errored")
    assert subscribed(["rule.errored"], "rule.errored") and subscribed(["*", "rule.errored"], "rule.errored")
    assert subscribed(["*"], "event.completed")
    try:
        check_enabled_events(["rule.*"])
    except WebhookAdminError as exc:
        assert exc.code == "invalid_enabled_events"
    else:
        raise AssertionError("rule.* is no family: rule.errored is named exactly")
    assert check_enabled_events(["rule.errored"]) == ["rule.errored"]


def test_a_completed_event_reports_each_errored_rule():
    event = EventRecord(id="e1", program_id="p1", participant_id="u1", external_id="alice", idempotency_key="k")
    event.event_timestamp = datetime(2026, 1, 1, tzinfo=UTC)
    result = EvaluationResult(
        status="COMPLETED",
        evaluated_at=datetime(2026, 1, 1, tzinfo=UTC),
        participant=EntityState(),
        program=ProgramState(),
        actions=[],
        state_changes=[],
        budget_uses=[],
        rules=[
            RuleOutcome(rule="fine", order=10, status=RuleStatus.MATCHED),
            RuleOutcome(
                rule="weekend",
                order=20,
                status=RuleStatus.SKIPPED_ERROR,
                rule_id="r2",
                error="no such key: 'ammount'",
                error_code="DSL_NO_SUCH_KEY",
            ),
        ],
    )
    errored = [data for kind, data in event_messages(event, result) if kind == "rule.errored"]
    assert errored == [
        {
            "program_id": "p1",
            "event_id": "e1",
            "participant_id": "u1",
            "external_id": "alice",
            "rule_id": "r2",
            "rule": "weekend",
            "status": "SKIPPED_ERROR",
            "error_code": "DSL_NO_SUCH_KEY",
            "error_message": "no such key: 'ammount'",
        }
    ]
