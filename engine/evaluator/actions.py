"""Resolving a matched rule's actions (every expression evaluated, amounts at the asset's scale)
and applying them to the event's working state.

    >>> resolved = apply_actions(rule, bindings, working)   # -> list[ResolvedAction]

An action that cannot run raises `ActionFailure` (an `EvaluationError`) whose message reads like
Scrip's, "action CREDIT failed: amount exceeds asset scale: ...", and whose `code` is one of
`invalid_scale`, `invalid_amount`, `max_transaction_amount_exceeded`, `participant_inactive`
(D22), `insufficient_funds`, `insufficient_wallet`, `hold_not_found`, `invalid_target`, a
`LIMIT_*` code, or the `DSL_*` code of an expression that failed. The event then fails (D14).

Routing (D17): an action without `target` applies to the recipient when the event has one, else
to the participant. An action on the group the event names changes the working group (A255);
actions on another participant or group are resolved and listed, but their balances and state
are storage's to check and change.
"""

from __future__ import annotations

from typing import Any

from dsl.errors import DslError
from dsl.values import type_name
from engine.errors import EngineError, EvaluationError
from engine.evaluator.balance_actions import BALANCE_HANDLERS, moment
from engine.evaluator.working import WorkingState
from engine.model.amounts import to_increment
from engine.model.result import ResolvedAction, ResolvedTarget
from engine.model.vocabulary import ActionStatus, is_blocked
from engine.rules.program import CompiledAction, CompiledRule


class ActionFailure(EvaluationError):
    """An action of `rule` (at `index`) could not run; the whole event fails."""

    def __init__(self, kind: str, message: str, *, code: str, rule: str, index: int) -> None:
        super().__init__(f"action {kind} failed: {message}", code=code)
        self.rule, self.index = rule, index


def apply_actions(rule: CompiledRule, bindings: dict[str, Any], working: WorkingState) -> list[ResolvedAction]:
    """Resolve and apply each action of `rule` in order; raise `ActionFailure` on the first
    one that cannot run (the caller then discards the working state)."""
    resolved = []
    for action in rule.actions:
        try:
            resolved.append(_apply(rule, action, bindings, working))
        except (EngineError, DslError) as exc:
            raise ActionFailure(action.type, exc.message, code=exc.code, rule=rule.name, index=action.index) from exc
        except ArithmeticError as exc:  # decimal traps, e.g. a NaN balance handed in
            raise ActionFailure(
                action.type,
                f"arithmetic error: {exc!r}",
                code="invalid_amount",
                rule=rule.name,
                index=action.index,
            ) from exc
    return resolved


def _apply(
    rule: CompiledRule, action: CompiledAction, bindings: dict[str, Any], working: WorkingState
) -> ResolvedAction:
    target, role = _resolve_target(action, bindings, working)
    entity = working.named(role) if role in ("participant", "recipient") else None
    if entity is not None and is_blocked(action.type, entity.status):
        who = entity.external_id or entity.id or role
        raise EngineError(f"participant {who} is {entity.status}", code="participant_inactive")
    if role == "group" and working.named_group().status != "ACTIVE":  # as storage refuses it (A243)
        raise EngineError(f"group {target.id} is archived", code="group_archived")
    spec = action.action
    out = ResolvedAction(
        rule=rule.name,
        index=action.index,
        type=action.type,
        target=target,
        description=spec.description,
    )
    if action.type in BALANCE_HANDLERS:
        BALANCE_HANDLERS[action.type](rule, action, bindings, working, role, out)
    else:
        _apply_state_action(rule, action, bindings, working, role, out)
    return out


# --- targets -------------------------------------------------------------------------------------


def _resolve_target(
    action: CompiledAction, bindings: dict[str, Any], working: WorkingState
) -> tuple[ResolvedTarget, str | None]:
    target = action.action.target
    if target is None:
        role = "recipient" if working.recipient is not None else "participant"
        return working.target(role), role
    if target.type == "PROGRAM":
        return working.target("program"), "program"
    id_value = _target_text(action.target_id, bindings, "id")
    external_id = _target_text(action.target_external_id, bindings, "external_id")
    if target.type == "GROUP":
        named = working.group is not None and id_value == working.group.id
        return ResolvedTarget(type="GROUP", id=id_value, external_id=external_id), "group" if named else None
    if id_value is None and external_id is None:
        return working.target("participant"), "participant"
    for role in ("participant", "recipient"):
        entity = working.person(role)
        if entity is None:
            continue
        if (id_value is not None and id_value == entity.id) or (
            external_id is not None and external_id == entity.external_id
        ):
            return working.target(role), role
    return ResolvedTarget(type="PARTICIPANT", id=id_value, external_id=external_id), None


def _target_text(expression: Any, bindings: dict[str, Any], name: str) -> str | None:
    if expression is None:
        return None
    value = expression.evaluate(bindings)
    if type(value) is not str or not value:
        shown = type_name(value) if type(value) is not str else "an empty string"
        raise EngineError(f"target {name} must be a non-empty string, got {shown}", code="invalid_target")
    return value


# --- state and event actions ---------------------------------------------------------------------


def _apply_state_action(rule, action, bindings, working, role, out) -> None:
    spec, kind = action.action, action.type
    applies = role is not None  # another participant or group: storage applies it
    if kind in ("TAG", "UNTAG"):
        out.tag = spec.tag.lower()
        if applies and kind == "TAG":
            working.add_tag(role, out.tag, rule=rule.name)
        elif applies:
            working.remove_tag(role, out.tag, rule=rule.name)
    elif kind == "COUNTER":
        increment = to_increment(action.amount.evaluate(bindings))
        # the compiled reset: a calendar period carries the program's zone (`month@Europe/London`)
        out.key, out.value, out.reset_after = spec.key, format(increment, "f"), action.reset_after
        if applies:
            working.increment_counter(role, spec.key, increment, action.reset_after, rule=rule.name)
    elif kind == "SET_ATTRIBUTE":
        out.key, out.value = spec.key, spec.value
        if applies:
            working.set_attribute(role, spec.key, spec.value, rule=rule.name)
    elif kind == "SET_TIER":
        out.tier, out.level = spec.tier, spec.level
        out.expires_at = moment(action.expires_at, bindings, working.as_of)
        if out.expires_at is not None and out.expires_at <= working.as_of:
            raise EngineError(
                f"the level would lapse at {out.expires_at.isoformat()}, before the event", code="invalid_expiry"
            )
        if action.tier_archived:
            out.status = ActionStatus.SKIPPED  # an archived tier: skipped, and the event still completes
        elif applies:  # the participant, recipient or named group (A258); another owner is storage's
            working.set_tier(role, spec.tier, spec.level, action.tier_rank, rule=rule.name, expires_at=out.expires_at)
    else:  # SCHEDULE_EVENT, BROADCAST
        out.event_name, out.payload = spec.event_name, dict(spec.payload)
        out.delay = getattr(spec, "delay", None)
