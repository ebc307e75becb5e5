"""Resolving a matched rule's actions (every expression evaluated, amounts at the asset's scale)
and applying them to the event's working state.

    >>> resolved = apply_actions(rule, bindings, working)   # -> list[ResolvedAction]

An action that cannot run raises `ActionFailure` (an `EvaluationError`) whose message reads like
Scrip's, "action CREDIT failed: amount exceeds asset scale: ...", and whose `code` is one of
`invalid_scale`, `invalid_amount`, `max_transaction_amount_exceeded`, `participant_inactive`
(D22), `insufficient_funds`, `insufficient_wallet`, `hold_not_found`, `invalid_target`, a
`LIMIT_*` code, or the `DSL_*` code of an expression that failed. The event then fails (D14).

Routing (D17): an action without `target` applies to the recipient when the event has one, else
to the participant. Actions on another participant or a group are resolved and listed, but their
balances and state are storage's to check and change.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from dsl.errors import DslError
from dsl.values import type_name
from engine.errors import EngineError, EvaluationError
from engine.evaluator.working import WorkingState
from engine.model.amounts import to_amount, to_increment
from engine.model.result import ResolvedAction, ResolvedTarget
from engine.model.state import Balance
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
    spec = action.action
    out = ResolvedAction(
        rule=rule.name,
        index=action.index,
        type=action.type,
        target=target,
        description=spec.description,
    )
    if action.type in _BALANCE_HANDLERS:
        _BALANCE_HANDLERS[action.type](rule, action, bindings, working, role, out)
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
        return ResolvedTarget(type="GROUP", id=id_value, external_id=external_id), None
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


def _text(expression: Any, bindings: dict[str, Any], name: str) -> str | None:
    """reference_id: a string (a double with an integral value is written without ".0")."""
    if expression is None:
        return None
    value = expression.evaluate(bindings)
    if type(value) is str and value:
        return value
    if type(value) is not bool and isinstance(value, (int, float)) and float(value).is_integer():
        return str(int(value))
    raise EngineError(f"{name} must be a non-empty string, got {type_name(value)}", code="invalid_reference")


# --- balances ------------------------------------------------------------------------------------


def _amount(action: CompiledAction, bindings: dict[str, Any]) -> Decimal:
    if action.constant_amount is not None:
        return action.constant_amount
    if action.asset is None:  # the compiler refuses a balance action without a known asset
        raise EngineError(f"action {action.index} names no known asset", code="unknown_asset")
    value = action.amount.evaluate(bindings)
    return to_amount(value, scale=action.asset.scale, maximum=action.max_amount)


def _balance(entity: Any, symbol: str) -> Balance:
    balance = entity.balances.get(symbol)
    if balance is None:
        balance = entity.balances[symbol] = Balance()
    return balance


def _moment(value: timedelta | datetime | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    return now + value if isinstance(value, timedelta) else value


def _within_budgets(rule, symbol: str, amount: Decimal, working) -> bool:
    """Whether the credit fits the rule's program-wide budget and its per-participant one (D37);
    when it does, both consume it."""
    limits = [
        (per, limits[symbol])
        for per, limits in (("program", rule.budgets), ("participant", rule.participant_budgets))
        if symbol in limits
    ]
    if not all(working.budget_fits(rule.name, symbol, amount, limit, per=per) for per, limit in limits):
        return False
    for per, _ in limits:
        working.consume_budget(rule.name, symbol, amount, per=per)
    return True


def _credit(rule, action, bindings, working, role, out) -> None:
    spec, symbol = action.action, action.asset.symbol
    amount = _amount(action, bindings)
    out.asset, out.amount = symbol, amount
    out.reference_id = _text(action.reference, bindings, "reference_id")
    out.matures_at = _moment(action.matures_at, working.now)
    out.expires_at = _moment(action.expires_at, working.now)
    # DEFERRED exactly when the credit matures after the event; a past maturity is AVAILABLE at once.
    bucket = "DEFERRED" if out.matures_at is not None and out.matures_at > working.now else spec.bucket
    out.bucket = bucket
    if not _within_budgets(rule, symbol, amount, working):
        out.status = ActionStatus.SUPPRESSED  # D21: no partial credits
        return
    if action.asset.issuance_policy == "PREFUNDED":
        wallet = working.program.wallet.get(symbol)
        if wallet is None or wallet.available < amount:
            have = wallet.available if wallet is not None else Decimal(0)
            raise EngineError(f"program wallet holds {have} {symbol}, {amount} needed", code="insufficient_wallet")
        wallet.available -= amount
    if role not in ("participant", "recipient"):
        return
    entity = working.named(role)
    balance = _balance(entity, symbol)
    if bucket == "DEFERRED":
        balance.deferred += amount
    elif bucket == "HELD":
        balance.held += amount
        if out.reference_id is not None:
            _add_hold(entity, symbol, out.reference_id, amount)
    else:
        balance.available += amount


def _add_hold(entity: Any, symbol: str, reference: str, amount: Decimal) -> None:
    held = entity.holds.setdefault(symbol, {})
    held[reference] = held.get(reference, Decimal(0)) + amount


def _take(balance: Balance, bucket: str, amount: Decimal, *, allow_negative: bool = False) -> None:
    field = "held" if bucket == "HELD" else "available"
    have = getattr(balance, field)
    if have < amount and not allow_negative:
        raise EngineError(
            f"insufficient {bucket} balance: {have} available, {amount} needed", code="insufficient_funds"
        )
    setattr(balance, field, have - amount)


def _debit(rule, action, bindings, working, role, out) -> None:
    spec = action.action
    out.asset, out.amount = action.asset.symbol, _amount(action, bindings)
    out.bucket, out.allow_negative = spec.bucket, spec.allow_negative
    if role in ("participant", "recipient"):
        balance = _balance(working.named(role), out.asset)
        _take(balance, spec.bucket, out.amount, allow_negative=spec.allow_negative)


def _forfeit(rule, action, bindings, working, role, out) -> None:
    out.asset, out.amount = action.asset.symbol, _amount(action, bindings)
    out.bucket = action.action.bucket
    if role in ("participant", "recipient"):
        _take(_balance(working.named(role), out.asset), out.bucket, out.amount)


def _hold(rule, action, bindings, working, role, out) -> None:
    out.asset, out.amount = action.asset.symbol, _amount(action, bindings)
    out.reference_id = _text(action.reference, bindings, "reference_id")
    if role in ("participant", "recipient"):
        entity = working.named(role)
        balance = _balance(entity, out.asset)
        _take(balance, "AVAILABLE", out.amount)
        balance.held += out.amount
        if out.reference_id is not None:
            _add_hold(entity, out.asset, out.reference_id, out.amount)


def _release(rule, action, bindings, working, role, out) -> None:
    out.asset, out.amount = action.asset.symbol, _amount(action, bindings)
    out.reference_id = _text(action.reference, bindings, "reference_id")
    if role not in ("participant", "recipient"):
        return
    entity = working.named(role)
    balance = _balance(entity, out.asset)
    _take(balance, "HELD", out.amount)
    balance.available += out.amount
    held = entity.holds.get(out.asset, {})
    if out.reference_id is not None and out.reference_id in held:
        if held[out.reference_id] < out.amount:
            raise EngineError(
                f"hold {out.reference_id!r} holds {held[out.reference_id]}, {out.amount} needed",
                code="insufficient_funds",
            )
        _reduce_hold(held, out.reference_id, out.amount)


def _reduce_hold(held: dict[str, Decimal], reference: str, amount: Decimal) -> None:
    remaining = held[reference] - amount
    if remaining > 0:
        held[reference] = remaining
    else:
        del held[reference]


def _void_hold(rule, action, bindings, working, role, out) -> None:
    out.asset = action.asset.symbol
    out.reference_id = _text(action.reference, bindings, "reference_id")
    if role not in ("participant", "recipient"):
        return  # storage finds the hold of another participant or group
    entity = working.named(role)
    held = entity.holds.get(out.asset, {})
    if out.reference_id not in held:
        raise EngineError(f"no {out.asset} held under reference {out.reference_id!r}", code="hold_not_found")
    out.amount = held[out.reference_id]
    _take(_balance(entity, out.asset), "HELD", out.amount)
    _reduce_hold(held, out.reference_id, out.amount)


_BALANCE_HANDLERS = {
    "CREDIT": _credit,
    "DEBIT": _debit,
    "HOLD": _hold,
    "RELEASE": _release,
    "FORFEIT": _forfeit,
    "VOID_HOLD": _void_hold,
}


# --- state and event actions ---------------------------------------------------------------------


def _apply_state_action(rule, action, bindings, working, role, out) -> None:
    spec, kind = action.action, action.type
    applies = role is not None  # another participant or a group: storage applies it
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
        if action.tier_archived:
            out.status = ActionStatus.SKIPPED  # an archived tier: skipped, and the event still completes
        elif applies:
            working.set_tier(role, spec.tier, spec.level, action.tier_rank, rule=rule.name)
    else:  # SCHEDULE_EVENT, BROADCAST
        out.event_name, out.payload = spec.event_name, dict(spec.payload)
        out.delay = getattr(spec, "delay", None)
