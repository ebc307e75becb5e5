"""`POST /v1/rules/{id}/simulate` and `POST /v1/rules/validate`: the same compile and evaluate
functions the worker runs (D30), with nothing written.

Simulation evaluates the one rule (as if ACTIVE) against the given event data, an optional
participant state and an optional state of the group the event names (A264), at the given
`event_timestamp` (`now` in CEL; the server's current time by default), and describes each action
it would run in Scrip's shapes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from api.errors import BadRequest
from api.queries.rules import get_rule_row
from api.schemas.rules import (
    ActionResult,
    GroupStateInput,
    ParticipantStateInput,
    SimulatedEvaluation,
    SimulatedRule,
    SimulateRequest,
    SimulateResult,
    ValidateResult,
)
from dsl import DslError, compile_expression
from engine.errors import EngineError
from engine.evaluator.case_inputs import balance_input
from engine.evaluator.evaluate import evaluate_event
from engine.model.result import ResolvedAction, RuleStatus
from engine.model.state import CounterState, EntityState, EvaluationInput, EventInput, GroupState
from engine.model.vocabulary import EventStatus
from engine.rules.compiler import VARIABLES
from engine.rules.program import ProgramCompileError, compile_program
from engine.store import catalog
from engine.store.db import utcnow
from engine.store.fields import canonical_decimal

SYNTAX_NOTE = (
    "Only syntax and names are checked; whether the condition matches depends on the event and the participant's state."
)


def validate_condition(condition: str) -> ValidateResult:
    """Compile a CEL condition as a rule's would be. Example: `validate_condition("event.amount > 1.0").valid`."""
    try:
        compile_expression(condition, variables=VARIABLES)
    except DslError as exc:
        return ValidateResult(valid=False, message=str(exc), line=exc.line, column=exc.column, code=exc.code)
    return ValidateResult(valid=True, message="CEL condition is valid", note=SYNTAX_NOTE)


def _counters(given: dict[str, float | int | str], field: str) -> dict[str, CounterState]:
    try:
        counters = {k: CounterState(value=Decimal(str(v))) for k, v in given.items()}
    except ArithmeticError as exc:
        raise BadRequest(f"{field} values must be numbers", details={"field": field}) from exc
    return counters


def _participant(given: ParticipantStateInput | None) -> EntityState:
    if given is None:
        return EntityState(id="simulated", external_id="simulated")
    return EntityState(
        id="simulated",
        external_id="simulated",
        tags=sorted({t.lower() for t in given.tags}),
        counters=_counters(given.counters, "participant_state.counters"),
        attributes=dict(given.attributes),
    )


def _group(given: GroupStateInput | None, event: dict[str, Any]) -> GroupState | None:
    """The group the event names, as the worker would bind it: its id is the event's `group_id`
    unless given, and the two agree."""
    if given is None:
        return None
    named = event.get("group_id")
    group_id = given.id if given.id is not None else named
    if not isinstance(group_id, str) or not group_id:
        raise BadRequest("group_state needs an id, or the event's group_id", details={"field": "group_state.id"})
    if named is not None and named != group_id:
        message = f"group_state.id {group_id!r} is not the event's group_id {named!r}"
        raise BadRequest(message, details={"field": "group_state.id"})
    balances = None
    if given.balances is not None:
        try:
            balances = {symbol: balance_input(value, symbol) for symbol, value in given.balances.items()}
        except EngineError as exc:
            raise BadRequest(f"group_state.balances: {exc.message}", details={"field": "group_state.balances"}) from exc
    return GroupState(
        id=group_id,
        name=given.name,
        status=given.status,
        tags=sorted({t.lower() for t in given.tags}),
        counters=_counters(given.counters, "group_state.counters"),
        attributes=dict(given.attributes),
        balances=balances,
    )


def _describe(action: ResolvedAction, before: EntityState | GroupState) -> dict[str, Any]:
    amount = None if action.amount is None else canonical_decimal(action.amount)
    verb = action.type.capitalize().replace("_", " ")
    if action.type in ("CREDIT", "DEBIT", "HOLD", "RELEASE", "FORFEIT"):
        whom = "group" if action.target.type == "GROUP" else "participant"
        return {
            "amount": amount,
            "asset_symbol": action.asset,
            "description": f"{verb} {amount} {action.asset} to {whom}",
        }
    if action.type == "COUNTER":
        current = before.counters.get(action.key or "")
        current_value = current.value if current else Decimal(0)
        projected = current_value + Decimal(action.value or "0")
        return {
            "current_value": canonical_decimal(current_value),
            "projected_value": canonical_decimal(projected),
            "value": action.value,
            "description": f"Increment counter {action.key} by {action.value}",
        }
    if action.type in ("TAG", "UNTAG"):
        key = "would_add" if action.type == "TAG" else "would_remove"
        return {"current_tags": before.tags, key: action.tag, "description": f"{verb} '{action.tag}'"}
    if action.type == "SET_ATTRIBUTE":
        attribute = before.attributes.get(action.key or "")
        return {
            "current_value": attribute,
            "would_change": attribute != action.value,
            "description": f"Set attribute {action.key} to '{action.value}'",
        }
    return {"description": f"{verb} " + " ".join(str(v) for v in (action.tier, action.level, action.event_name) if v)}


def _before(action: ResolvedAction, participant: EntityState, group: GroupState | None) -> EntityState | GroupState:
    """The state an action's `current_*` values are read from: the group's for the group it targets."""
    if group is not None and action.target.type == "GROUP" and action.target.id == group.id:
        return group
    return participant


def simulate_rule(org_id: str, rule_id: str, data: SimulateRequest) -> SimulateResult:
    record = get_rule_row(org_id, rule_id)
    bundle, _ = catalog.program_bundle(record.program)
    rule = msgspec.structs.replace(catalog.rule_to_bundle(record), status="ACTIVE", stop_after_match=False)
    single = msgspec.structs.replace(bundle, rules=[rule])
    try:
        program = compile_program(single)
    except ProgramCompileError as exc:
        raise BadRequest(f"the rule does not compile: {exc}", code="invalid_rule") from exc
    participant = _participant(data.participant_state)
    group = _group(data.group_state, data.event)
    now = data.event_timestamp or utcnow()
    received_at = data.received_at or now
    try:
        result = evaluate_event(
            program,
            EvaluationInput(
                event=EventInput(event_data=data.event, event_timestamp=now, received_at=received_at),
                participant=participant,
                group=group,
            ),
        )
    except EngineError as exc:
        raise BadRequest(exc.message, code=exc.code.lower()) from exc
    outcome = result.rules[0] if result.rules else None
    summary = SimulatedRule(
        id=record.id,
        name=record.name,
        condition=record.condition,
        order=record.order,
        stop_after_match=record.stop_after_match,
    )
    if result.status == EventStatus.FAILED and (outcome is None or outcome.status == RuleStatus.MATCHED):
        evaluation = SimulatedEvaluation(matched=True, status="evaluated", reason=result.error_message)
    elif outcome is None or outcome.status == RuleStatus.NOT_MATCHED:
        evaluation = SimulatedEvaluation(matched=False, status="evaluated", reason="condition evaluated to false")
    elif outcome.status in (RuleStatus.SKIPPED_ERROR, RuleStatus.SKIPPED_TIMEOUT):
        evaluation = SimulatedEvaluation(matched=False, status="condition_failed", reason=outcome.error)
    elif outcome.status == RuleStatus.OUTSIDE_TIME_WINDOW:
        evaluation = SimulatedEvaluation(matched=False, status="evaluated", reason="OUTSIDE_TIME_WINDOW")
    else:
        evaluation = SimulatedEvaluation(
            matched=True,
            status="evaluated",
            reason="BUDGET_EXCEEDED" if outcome.status == RuleStatus.BUDGET_EXCEEDED else None,
            results=[
                ActionResult(action=a.type, result=_describe(a, _before(a, participant, group)))
                for a in outcome.actions
            ],
        )
    return SimulateResult(rule=summary, evaluation=evaluation)
