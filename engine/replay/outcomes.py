"""What a replay counts for one ruleset, and how one event's outcome is compared: with the other
ruleset's (did the change change it?) and with what was recorded (does the baseline reproduce
history?).

    tally.count(result)                         # per rule and per asset, for one ruleset
    outcome_of(result) == outcome_of(other)     # the same status, rule statuses and actions
    mismatch = reproduction_mismatch(event, result)   # None when the replay reproduces the record
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from engine.model.history import RecordedEvent
from engine.model.result import EvaluationResult, RuleStatus
from engine.model.vocabulary import ActionStatus

ZERO = Decimal(0)
ERRORING = (RuleStatus.SKIPPED_ERROR, RuleStatus.SKIPPED_TIMEOUT)
# value a balance action moves, by the flow a backtest reports it under
FLOWS = {"CREDIT": "credited", "DEBIT": "debited", "HOLD": "held", "FORFEIT": "forfeited"}


class RuleCounts(msgspec.Struct, kw_only=True):
    matched: int = 0
    skipped: int = 0
    erroring: int = 0


class AssetFlows(msgspec.Struct, kw_only=True):
    credited: Decimal = ZERO
    debited: Decimal = ZERO
    held: Decimal = ZERO
    forfeited: Decimal = ZERO


class Tally(msgspec.Struct, kw_only=True):
    """One ruleset's counts over a replay: events by status, rules, value moved per asset."""

    events: int = 0
    failed: int = 0
    rules: dict[str, RuleCounts] = msgspec.field(default_factory=dict)
    assets: dict[str, AssetFlows] = msgspec.field(default_factory=dict)
    # rule -> the receive time of the first event its budget refused a credit (BUDGET_EXCEEDED)
    exhausted: dict[str, datetime] = msgspec.field(default_factory=dict)
    # asset -> UTC day (ISO date of the event's `now`) -> value credited that day
    credited_by_day: dict[str, dict[str, Decimal]] = msgspec.field(default_factory=dict)

    def count(self, result: EvaluationResult) -> None:
        self.events += 1
        if result.status != "COMPLETED":
            self.failed += 1
        for outcome in result.rules:
            if outcome.status == RuleStatus.NOT_MATCHED:
                continue
            if outcome.status == RuleStatus.BUDGET_EXCEEDED:
                self.exhausted.setdefault(outcome.rule, result.evaluated_at)
            counts = self.rules.setdefault(outcome.rule, RuleCounts())
            if outcome.status == RuleStatus.MATCHED:
                counts.matched += 1
            elif outcome.status in ERRORING:
                counts.erroring += 1
            else:
                counts.skipped += 1
        if result.status != "COMPLETED":
            return  # a failed event moves nothing (D14)
        for action in result.actions:
            flow = FLOWS.get(action.type)
            if flow is None or action.asset is None or action.amount is None:
                continue
            flows = self.assets.setdefault(action.asset, AssetFlows())
            setattr(flows, flow, getattr(flows, flow) + action.amount)
            if flow == "credited":
                days = self.credited_by_day.setdefault(action.asset, {})
                day = result.evaluated_at.date().isoformat()
                days[day] = days.get(day, ZERO) + action.amount


Outcome = tuple[str, str | None, tuple[tuple[str, str, tuple[tuple[str, str | None, Decimal | None], ...]], ...]]


def _actions(actions: list[Any]) -> tuple[tuple[str, str | None, Decimal | None], ...]:
    """(type, asset, amount) of each applied action, from resolved actions (read field by field:
    no conversion to plain data per event) or their stored form (plain data)."""
    found = []
    for action in actions:
        if isinstance(action, dict):
            status, kind = action.get("status", ActionStatus.APPLIED), action.get("type")
            asset, amount = action.get("asset"), action.get("amount")
        else:
            status, kind, asset, amount = action.status, action.type, action.asset, action.amount
        if status != ActionStatus.APPLIED:
            continue
        if amount is not None and not isinstance(amount, Decimal):
            amount = Decimal(str(amount))  # stored as text or a JSON number
        found.append((str(kind), asset, amount))
    return tuple(found)


def outcome_of(result: EvaluationResult) -> Outcome:
    """An event's outcome as compared: its status and each listed rule's status and actions."""
    rules = tuple(
        (outcome.rule, str(outcome.status), _actions(outcome.actions))
        for outcome in result.rules
        if outcome.status != RuleStatus.NOT_MATCHED
    )
    return str(result.status), result.error_code, rules


def recorded_outcome(event: RecordedEvent) -> Outcome:
    rules = tuple((rule.rule, rule.status, _actions(rule.actions)) for rule in event.rules)
    return event.status, event.error_code, rules


class Mismatch(msgspec.Struct, kw_only=True):
    """A recorded event the baseline replay does not reproduce, with both outcomes."""

    event_id: str
    participant_id: str
    recorded: dict[str, Any]
    replayed: dict[str, Any]


def outcome_view(outcome: Outcome) -> dict[str, Any]:
    """An outcome as plain data, for reports."""
    status, error_code, rules = outcome
    return {
        "status": status,
        "error_code": error_code,
        "rules": [
            {
                "rule": rule,
                "status": rule_status,
                "actions": [{"type": kind, "asset": asset, "amount": amount} for kind, asset, amount in actions],
            }
            for rule, rule_status, actions in rules
        ],
    }


def reproduction_mismatch(event: RecordedEvent, replayed: Outcome) -> Mismatch | None:
    """The difference between what was recorded for `event` and the baseline's replay of it
    (`outcome_of` its result), or None when they agree."""
    recorded = recorded_outcome(event)
    if recorded == replayed:  # the common case, without sorting the actions
        return None
    if recorded[:2] == replayed[:2] and sorted(recorded[2], key=repr) == sorted(replayed[2], key=repr):
        return None
    return Mismatch(
        event_id=event.id,
        participant_id=event.participant_id,
        recorded=outcome_view(recorded),
        replayed=outcome_view(replayed),
    )


def traces_of(result: EvaluationResult) -> dict[str, list[dict[str, Any]]]:
    """Each evaluated rule's condition trace (sub-expressions with their values or errors), as
    plain data, by rule."""
    return {
        outcome.rule: [msgspec.to_builtins(step) for step in outcome.trace] for outcome in result.rules if outcome.trace
    }
