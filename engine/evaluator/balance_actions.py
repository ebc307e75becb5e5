"""The balance actions of a matched rule, applied to the working copy: CREDIT, DEBIT, HOLD,
RELEASE, FORFEIT and VOID_HOLD. Amounts are exact at the asset's scale (D19); a refusal raises
`EngineError` with a stable code, which fails the event (D14).

On a LOT asset (D34) each action also moves the lots the holder's balances are made of, with the
rules of `engine.model.lots`: a credit is a new lot, spending takes lots in the asset's spending
order, a hold or release moves lots between AVAILABLE and HELD, a void cancels only lots credited
straight into HELD under the reference.

Actions on another participant or group are resolved here but applied by storage, which holds
their balances. The group the event names (role "group") has its balances, holds and lots moved
here as a participant's whenever they are known (storage reads them, a test case gives them;
A262, A263), and its CEL binding is rebuilt so later rules see `group.balances` change.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from dsl.values import type_name
from engine.errors import EngineError
from engine.evaluator.holdings import bucket_field, holder_balance
from engine.evaluator.working import WorkingState
from engine.model.amounts import to_amount
from engine.model.durations import DurationError, parse_duration
from engine.model.lots import ANY, LotFilter, LotShortfall, LotStatus
from engine.model.state import Balance, EntityState, GroupState
from engine.model.vocabulary import ActionStatus
from engine.rules.program import CompiledAction


def text_value(expression: Any, bindings: dict[str, Any], name: str) -> str | None:
    """reference_id: a string (a double with an integral value is written without ".0")."""
    if expression is None:
        return None
    value = expression.evaluate(bindings)
    if type(value) is str and value:
        return value
    if type(value) is not bool and isinstance(value, (int, float)) and float(value).is_integer():
        return str(int(value))
    raise EngineError(f"{name} must be a non-empty string, got {type_name(value)}", code="invalid_reference")


def _amount(action: CompiledAction, bindings: dict[str, Any]) -> Decimal:
    if action.constant_amount is not None:
        return action.constant_amount
    if action.asset is None:  # the compiler refuses a balance action without a known asset
        raise EngineError(f"action {action.index} names no known asset", code="unknown_asset")
    value = action.amount.evaluate(bindings)
    return to_amount(value, scale=action.asset.scale, maximum=action.max_amount)


def _holder(working: WorkingState, role: str | None) -> EntityState | GroupState | None:
    """Whose balances the action moves here (None: storage applies it). The group's binding shows
    its balances, so it is rebuilt before the next rule."""
    holder = working.balance_holder(role)
    if holder is not None and role == "group":
        working.stale.add("group")
    return holder


def moment(value: Any, bindings: dict[str, Any], start: datetime) -> datetime | None:
    """expires_at / matures_at: a duration after `start`, a time, or CEL giving either (a
    timestamp, a duration, or the text of one)."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, timedelta):
        return start + value
    result = value.evaluate(bindings)
    if isinstance(result, str):
        try:
            result = parse_duration(result)
        except DurationError:
            try:
                result = datetime.fromisoformat(result.replace("Z", "+00:00"))
            except ValueError:
                raise EngineError(
                    f"{result!r} is neither a Go duration nor an RFC 3339 time", code="invalid_duration"
                ) from None
    if isinstance(result, datetime):
        return result if result.tzinfo is not None else result.replace(tzinfo=start.tzinfo)
    if isinstance(result, timedelta):
        return start + result
    raise EngineError(f"expected a timestamp or a duration, got {type_name(result)}", code="invalid_duration")


def _take(balance: Balance, bucket: str, amount: Decimal, *, allow_negative: bool = False) -> None:
    field = "held" if bucket == "HELD" else "available"
    have = getattr(balance, field)
    if have < amount and not allow_negative:
        raise EngineError(
            f"insufficient {bucket} balance: {have} available, {amount} needed", code="insufficient_funds"
        )
    setattr(balance, field, have - amount)


def _lots(working: WorkingState, role: str | None, symbol: str | None):
    """The holder's pile of a LOT asset, or None (a SIMPLE asset, or a holder storage applies)."""
    if working.balance_holder(role) is None or not working.holdings.is_lot(symbol):
        return None
    return working.holdings.pile(role, symbol)  # type: ignore[arg-type]  # is_lot checked symbol


def _short(exc: LotShortfall, what: str) -> EngineError:
    return EngineError(
        f"insufficient {what}: unexpired lots hold {exc.available}, {exc.needed} needed", code="insufficient_funds"
    )


def _within_budgets(rule, symbol: str, amount: Decimal, working: WorkingState) -> bool:
    """Whether the credit fits the rule's program-wide budget and its per-participant one (D37);
    when it does, both consume it."""
    limits = [
        (per, limits[symbol])
        for per, limits in (("program", rule.budgets), ("participant", rule.participant_budgets))
        if symbol in limits
    ]
    if working.participant is None and any(per == "participant" for per, _ in limits):
        message = f"rule {rule.name!r} has a per-participant budget, and the event has no participant"
        raise EngineError(message, code="participant_required")
    if not all(working.budget_fits(rule.name, symbol, amount, limit, per=per) for per, limit in limits):
        return False
    for per, _ in limits:
        working.consume_budget(rule.name, symbol, amount, per=per)
    return True


def _credit(rule, action, bindings, working: WorkingState, role, out) -> None:
    spec, symbol = action.action, action.asset.symbol
    amount = _amount(action, bindings)
    out.asset, out.amount = symbol, amount
    out.reference_id = text_value(action.reference, bindings, "reference_id")
    # A credit's dates count from when it is earned: the event's receive time (D16).
    out.matures_at = moment(action.matures_at, bindings, working.as_of)
    out.expires_at = moment(action.expires_at, bindings, working.as_of)
    # DEFERRED exactly when the credit matures later; a past maturity is AVAILABLE at once (A69).
    bucket = "DEFERRED" if out.matures_at is not None and out.matures_at > working.as_of else spec.bucket
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
    entity = _holder(working, role)
    if entity is None:
        return
    balance = holder_balance(entity, symbol)
    pile = _lots(working, role, symbol)
    if pile is not None:
        overdraft = -min(getattr(balance, bucket_field(bucket)), Decimal(0))
        pile.credit(
            amount,
            as_of=working.as_of,
            status=LotStatus.HELD if bucket == "HELD" else LotStatus.AVAILABLE,
            expires_at=out.expires_at,
            matures_at=out.matures_at,
            reference_id=out.reference_id,
            overdraft=overdraft,
        )
    setattr(balance, bucket_field(bucket), getattr(balance, bucket_field(bucket)) + amount)
    if bucket == "HELD" and out.reference_id is not None:
        _add_hold(entity, symbol, out.reference_id, amount)


def _add_hold(entity: EntityState | GroupState, symbol: str, reference: str, amount: Decimal) -> None:
    held = entity.holds.setdefault(symbol, {})
    held[reference] = held.get(reference, Decimal(0)) + amount


def _reduce_hold(held: dict[str, Decimal], reference: str, amount: Decimal) -> None:
    remaining = held[reference] - amount
    if remaining > 0:
        held[reference] = remaining
    else:
        del held[reference]


def _debit(rule, action, bindings, working: WorkingState, role, out) -> None:
    spec = action.action
    out.asset, out.amount = action.asset.symbol, _amount(action, bindings)
    out.bucket, out.allow_negative = spec.bucket, spec.allow_negative
    entity = _holder(working, role)
    if entity is not None:
        _take(holder_balance(entity, out.asset), spec.bucket, out.amount, allow_negative=spec.allow_negative)
        _spend(working, role, out, LotStatus(spec.bucket), allow_short=spec.allow_negative)


def _forfeit(rule, action, bindings, working: WorkingState, role, out) -> None:
    out.asset, out.amount = action.asset.symbol, _amount(action, bindings)
    out.bucket = action.action.bucket
    entity = _holder(working, role)
    if entity is not None:
        _take(holder_balance(entity, out.asset), out.bucket, out.amount)
        _spend(working, role, out, LotStatus(out.bucket), allow_short=False)


def _spend(working: WorkingState, role: str, out, status: LotStatus, *, allow_short: bool) -> None:
    pile = _lots(working, role, out.asset)
    if pile is not None:
        try:
            pile.take(out.amount, as_of=working.as_of, status=status, allow_short=allow_short)
        except LotShortfall as exc:
            raise _short(exc, f"{status} balance") from exc


def _hold(rule, action, bindings, working: WorkingState, role, out) -> None:
    out.asset, out.amount = action.asset.symbol, _amount(action, bindings)
    out.reference_id = text_value(action.reference, bindings, "reference_id")
    entity = _holder(working, role)
    if entity is None:
        return
    balance = holder_balance(entity, out.asset)
    _take(balance, "AVAILABLE", out.amount)
    balance.held += out.amount
    _move_lots(working, role, out, LotStatus.AVAILABLE, LotStatus.HELD, ANY)
    if out.reference_id is not None:
        _add_hold(entity, out.asset, out.reference_id, out.amount)


def _release(rule, action, bindings, working: WorkingState, role, out) -> None:
    out.asset, out.amount = action.asset.symbol, _amount(action, bindings)
    out.reference_id = text_value(action.reference, bindings, "reference_id")
    entity = _holder(working, role)
    if entity is None:
        return
    balance = holder_balance(entity, out.asset)
    _take(balance, "HELD", out.amount)
    overdraft = -min(balance.available, Decimal(0))  # released value repays it first
    balance.available += out.amount
    held = entity.holds.get(out.asset, {})
    only = LotFilter(reference_id=out.reference_id) if out.reference_id is not None else ANY
    _move_lots(working, role, out, LotStatus.HELD, LotStatus.AVAILABLE, only, overdraft)
    if out.reference_id is not None and out.reference_id in held:
        if held[out.reference_id] < out.amount:
            raise EngineError(
                f"hold {out.reference_id!r} holds {held[out.reference_id]}, {out.amount} needed",
                code="insufficient_funds",
            )
        _reduce_hold(held, out.reference_id, out.amount)


def _move_lots(
    working: WorkingState,
    role: str,
    out,
    source: LotStatus,
    target: LotStatus,
    only: LotFilter,
    overdraft: Decimal = Decimal(0),
) -> None:
    pile = _lots(working, role, out.asset)
    if pile is not None:
        try:
            pile.move(
                out.amount,
                as_of=working.as_of,
                source=source,
                target=target,
                only=only,
                reference_id=out.reference_id,
                overdraft=overdraft,
            )
        except LotShortfall as exc:
            raise _short(exc, f"{source} balance") from exc


def _void_hold(rule, action, bindings, working: WorkingState, role, out) -> None:
    out.asset = action.asset.symbol
    out.reference_id = text_value(action.reference, bindings, "reference_id")
    entity = _holder(working, role)
    if entity is None:
        return  # storage finds the hold of another participant or group
    held = entity.holds.get(out.asset, {})
    pile = _lots(working, role, out.asset)
    if pile is not None:  # only what was credited straight into HELD is voided, never what a HOLD moved
        provisional = LotFilter(reference_id=out.reference_id, provisional_only=True)
        out.amount = pile.total(LotStatus.HELD, working.as_of, provisional)
        if out.amount > 0:
            pile.take(out.amount, as_of=working.as_of, status=LotStatus.HELD, only=provisional)
    elif out.reference_id in held:
        out.amount = held[out.reference_id]
    if not out.amount:
        raise EngineError(f"no {out.asset} held under reference {out.reference_id!r}", code="hold_not_found")
    _take(holder_balance(entity, out.asset), "HELD", out.amount)
    if out.reference_id in held:
        _reduce_hold(held, out.reference_id, min(out.amount, held[out.reference_id]))


BALANCE_HANDLERS = {
    "CREDIT": _credit,
    "DEBIT": _debit,
    "HOLD": _hold,
    "RELEASE": _release,
    "FORFEIT": _forfeit,
    "VOID_HOLD": _void_hold,
}
