"""Redemptions and their reversals, each one idempotent transaction.

    redemption, replayed = redeem(org.id, p.id, program_id=prog.id, asset_id="PTS", amount="50",
                                  description="gift card")
    redemption, replayed = redeem_item(org.id, p.id, program_id=prog.id, reward_id=r.id, quantity=2)
    reversal, replayed = reverse(org.id, redemption.id, reason="order cancelled", quantity=1)

A redemption moves value from the participant's AVAILABLE balance to the program's redemption
target (`SYSTEM_REDEMPTION` unless the program names `SYSTEM_BREAKAGE` or a ledger entity), in one
journal entry; the target is captured on the redemption, so its reversals give back from where it
went even after the program changes it. Reversals add up to at most the redemption; on LOT assets
they restore the lots it took, last taken first (`engine.store.ledger.spending`).

Catalog redemptions lock the reward row after the ledger head (the order every writer takes), so
however many arrive at once the reward's stock and each participant's cap hold: the last unit goes
to one of them. A reversal of a catalog redemption frees its units (OUT_OF_STOCK -> ACTIVE).

`replayed` is True when an idempotency key answered a stored result (the API's 200 after 201).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import peewee

from engine.model.lots import Take, unrestored
from engine.model.spending import RedemptionState, redemption_cost, redemption_status, reversal_of, stock_status
from engine.store import lookups
from engine.store.balance_ops import check_description
from engine.store.db import new_id, utcnow
from engine.store.errors import Conflict, LedgerRejected, NotFound
from engine.store.idempotency import run_once
from engine.store.ledger import spending
from engine.store.ledger.accounts import lock
from engine.store.ledger.journal import Ledger, parse_amount
from engine.store.ledger.moves import Entity
from engine.store.models import PARTICIPANT, Asset, LotTake, Participant, Program, RedemptionRecord, ReversalRecord
from engine.store.redemption_targets import target_of
from engine.store.rewards import catalog_item, locked_reward
from engine.store.spending_results import (
    Redemption,
    Reversal,
    SpendingApplied,
    SpendingHook,
    redemption_of,
)
from engine.store.spending_results import (
    reversal_of as reversal_result,
)

REASON_MAX = 500


def redeem(
    organisation_id: str,
    participant_id: str,
    *,
    program_id: str,
    asset_id: str,
    amount: Any,
    description: str,
    idempotency_key: str | None = None,
    api_key_id: str | None = None,
    on_applied: SpendingHook | None = None,
    now: datetime | None = None,
) -> tuple[Redemption, bool]:
    """A raw redemption: `amount` of `asset_id` (an id or a symbol) leaves the participant."""
    check_description(description, required=True)
    request = {"kind": "raw", "participant_id": participant_id, "asset_id": asset_id, "amount": _text(amount),
               "description": description}  # fmt: skip

    def perform() -> Redemption:
        ledger = Ledger(organisation_id)  # the ledger head first, as every writer
        person, program = _parties(organisation_id, participant_id, program_id)
        asset = lookups.linked_asset(organisation_id, program.id, asset_id)
        value = parse_amount(amount, asset)
        row = _record(ledger, person, program, asset, value, None, description, description, api_key_id, now)
        return _applied(ledger, row, program, asset, person, on_applied)

    return run_once(organisation_id, program_id, "REDEMPTION", idempotency_key, request, perform, Redemption)


def redeem_item(
    organisation_id: str,
    participant_id: str,
    *,
    program_id: str,
    reward_id: str,
    quantity: int | None = None,
    amount: Any = None,
    description: str | None = None,
    idempotency_key: str | None = None,
    api_key_id: str | None = None,
    on_applied: SpendingHook | None = None,
    now: datetime | None = None,
) -> tuple[Redemption, bool]:
    """A catalog redemption: `quantity` units of a UNIT_BASED reward (default 1) or `amount` (at
    least its unit cost) of an AMOUNT_BASED one, while the reward is ACTIVE, in its window and in
    stock, within its per-participant cap."""
    check_description(description, required=False)
    request = {"kind": "item", "participant_id": participant_id, "reward_id": reward_id, "quantity": quantity,
               "amount": _text(amount), "description": description}  # fmt: skip

    def perform() -> Redemption:
        ledger = Ledger(organisation_id)  # the ledger head first, then the reward
        person, program = _parties(organisation_id, participant_id, program_id)
        reward = locked_reward(organisation_id, program.id, reward_id)
        asset = lookups.linked_asset(organisation_id, program.id, reward.asset_id)
        value = None if amount is None else parse_amount(amount, asset)
        at = now or utcnow()
        cost = redemption_cost(
            catalog_item(reward), quantity=quantity, amount=value, now=at, participant_units=_held(reward.id, person.id)
        )
        entry_text = description or reward.name
        row = _record(ledger, person, program, asset, cost, reward, description, entry_text, api_key_id, at)
        reward.redeemed_count += cost.quantity or 0
        reward.status = stock_status(reward.status, redeemed_count=reward.redeemed_count, max_total=reward.max_total)
        reward.save()
        return _applied(ledger, row, program, asset, person, on_applied)

    return run_once(organisation_id, program_id, "REDEMPTION", idempotency_key, request, perform, Redemption)


def reverse(
    organisation_id: str,
    redemption_id: str,
    *,
    reason: str,
    amount: Any = None,
    quantity: int | None = None,
    idempotency_key: str | None = None,
    api_key_id: str | None = None,
    on_applied: SpendingHook | None = None,
    now: datetime | None = None,
) -> tuple[Reversal, bool]:
    """Give back part (`amount`, or `quantity` of a UNIT_BASED redemption) or, with neither, the
    rest of a redemption. Allowed whatever the participant's and program's status: a refund is
    owed to a suspended member too."""
    if not isinstance(reason, str) or not 1 <= len(reason) <= REASON_MAX:
        raise LedgerRejected(f"reason must be 1-{REASON_MAX} characters", code="bad_request", field="reason")
    found = redemption_row(organisation_id, redemption_id)
    request = {"redemption_id": found.id, "amount": _text(amount), "quantity": quantity, "reason": reason}

    def perform() -> Reversal:
        ledger = Ledger(organisation_id)
        row = lock(RedemptionRecord.select().where(RedemptionRecord.id == found.id)).get()
        reward = locked_reward(organisation_id, None, row.reward_id) if row.reward_id else None
        asset, program, person = Asset.get_by_id(row.asset_id), Program.get_by_id(row.program_id), row.participant
        cost = reversal_of(
            _state(row), amount=None if amount is None else parse_amount(amount, asset), quantity=quantity
        )
        entry, _ = spending.reverse(
            ledger, asset, program.id, Entity(PARTICIPANT, person.id), cost.amount,
            Entity(row.target_entity_type, row.target_entity_id), _unrestored(row),
            as_of=now or utcnow(), description=reason, created_by_api_key_id=api_key_id, reference_id=row.id,
        )  # fmt: skip
        ledger.finish()
        reversal = ReversalRecord.create(
            redemption=row.id,
            amount=cost.amount,
            quantity=cost.quantity if row.redemption_type == "UNIT_BASED" else None,
            reason=reason,
            journal_entry_id=entry.id,
            created_by_api_key_id=api_key_id,
        )
        row.reversed_amount = Decimal(row.reversed_amount) + cost.amount
        row.reversed_quantity += cost.quantity or 0
        row.status = redemption_status(row.amount, row.reversed_amount)
        row.save()
        if reward is not None:
            reward.redeemed_count -= cost.quantity or 0
            reward.status = stock_status(
                reward.status, redeemed_count=reward.redeemed_count, max_total=reward.max_total
            )
            reward.save()
        result = reversal_result(reversal, asset, redemption_of(row, asset))
        if on_applied is not None:
            on_applied(SpendingApplied("REVERSAL", result, program, asset, person, tuple(ledger.settlements)))
        return result

    return run_once(organisation_id, found.program_id, "REVERSAL", idempotency_key, request, perform, Reversal)


def redemption_row(organisation_id: str, redemption_id: str) -> RedemptionRecord:
    row = RedemptionRecord.get_or_none(
        (RedemptionRecord.id == redemption_id) & (RedemptionRecord.organisation == organisation_id)
    )
    if row is None:
        raise NotFound(f"redemption {redemption_id} not found", resource="redemption", id=redemption_id)
    return row


# --- internals ------------------------------------------------------------------------------------


def _parties(organisation_id: str, participant_id: str, program_id: str) -> tuple[Participant, Program]:
    """The participant (ACTIVE) and the program (ACTIVE) of a redemption."""
    person = lookups.participant(organisation_id, participant_id)
    program = lookups.program(organisation_id, program_id)
    lookups.require_status(person, ("ACTIVE",), "a redemption")
    if program.status != "ACTIVE":
        raise Conflict(f"program {program.id} is {program.status}", code="program_inactive", status=program.status)
    return person, program


def _record(ledger, person, program, asset, cost, reward, description, entry_text, api_key_id, now):
    """Post the redemption's entry and write its row; `cost` is an amount or a `Cost`."""
    value = cost if isinstance(cost, Decimal) else cost.amount
    kind, target = target_of(program)
    redemption_id = new_id()  # the entry's reference, and its reversals': the journal finds them by it
    entry = spending.redeem(
        ledger, asset, program.id, Entity(PARTICIPANT, person.id), value, target, as_of=now or utcnow(),
        description=entry_text, created_by_api_key_id=api_key_id, reference_id=redemption_id,
    )  # fmt: skip
    ledger.finish()
    return RedemptionRecord.create(
        id=redemption_id,
        organisation=ledger.organisation_id,
        program=program.id,
        participant=person.id,
        asset=asset.id,
        reward=None if reward is None else reward.id,
        redemption_type=None if reward is None else reward.redemption_type,
        amount=value,
        quantity=None if reward is None else cost.quantity,
        unit_cost=None if reward is None else cost.unit_cost,
        description=description,
        journal_entry_id=entry.id,
        target_type=kind,
        target_entity_type=target.type,
        target_entity_id=target.id,
        created_by_api_key_id=api_key_id,
    )


def _applied(ledger, row, program, asset, person, on_applied: SpendingHook | None) -> Redemption:
    result = redemption_of(row, asset)
    if on_applied is not None:
        on_applied(SpendingApplied("REDEMPTION", result, program, asset, person, tuple(ledger.settlements)))
    return result


def _held(reward_id: str, participant_id: str) -> int:
    """Units of the reward the participant holds: redeemed and not reversed."""
    held = (
        RedemptionRecord.select(peewee.fn.SUM(RedemptionRecord.quantity - RedemptionRecord.reversed_quantity))
        .where((RedemptionRecord.reward == reward_id) & (RedemptionRecord.participant == participant_id))
        .scalar()
    )
    return int(held or 0)


def _state(row: RedemptionRecord) -> RedemptionState:
    return RedemptionState(
        amount=row.amount,
        redemption_type=row.redemption_type,
        quantity=row.quantity,
        unit_cost=row.unit_cost,
        reversed_amount=row.reversed_amount,
        reversed_quantity=row.reversed_quantity,
    )


def _unrestored(row: RedemptionRecord) -> list[Take]:
    """What the redemption's entry took from lots (in taking order) and its reversals have not
    given back yet (they restore last taken first)."""
    taken = LotTake.select().where(LotTake.entry_id == row.journal_entry_id).order_by(LotTake.position)
    takes = [Take(lot_id=take.lot_id, amount=-take.amount) for take in taken if take.amount < 0]
    reversals = ReversalRecord.select(ReversalRecord.journal_entry_id).where(ReversalRecord.redemption == row.id)
    entries = [reversal.journal_entry_id for reversal in reversals]
    # amounts are decimal text on SQLite, so the sign is judged here, not in SQL
    back = LotTake.select(LotTake.amount).where(LotTake.entry_id.in_(entries)) if entries else []
    return unrestored(takes, sum((take.amount for take in back if take.amount > 0), Decimal(0)))


def _text(amount: Any) -> str | None:
    """An amount as the request hash compares it: "10.50" and "10.5" are one request (D12)."""
    if amount is None:
        return None
    try:
        return format(Decimal(str(amount)).normalize(), "f")
    except ArithmeticError:
        return str(amount)


__all__ = ["redeem", "redeem_item", "redemption_row", "reverse"]
