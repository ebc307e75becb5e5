"""What spending operations answer (the API's bodies: amounts are `Decimal` at the asset's scale,
encoded as decimal strings), built from their rows, and the hook through which callers see a change
inside its transaction (webhooks)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

import msgspec

from engine.model.amounts import quantum
from engine.store.models import Asset, Participant, Program, RedemptionRecord, ReversalRecord, TransferRecord


class Redemption(msgspec.Struct, kw_only=True):
    id: str
    participant_id: str
    program_id: str
    asset_id: str
    amount: Decimal
    description: str | None
    journal_entry_id: str
    reward_id: str | None
    quantity: int | None
    unit_cost: Decimal | None
    reversed_amount: Decimal
    reversed_quantity: int | None
    status: str  # COMPLETED | PARTIALLY_REVERSED | FULLY_REVERSED
    redemption_target_type: str
    created_at: datetime
    updated_at: datetime


class Reversal(msgspec.Struct, kw_only=True):
    id: str
    redemption_id: str
    amount: Decimal
    quantity: int | None
    reason: str
    journal_entry_id: str
    created_at: datetime
    redemption: Redemption | None = None  # the redemption after this reversal (in the answer to it)


class TransferRecipient(msgspec.Struct, kw_only=True):
    type: str  # PARTICIPANT | GROUP
    id: str
    amount: Decimal


class TransferResult(msgspec.Struct, kw_only=True):
    id: str
    program_id: str
    asset_id: str
    journal_entry_id: str
    source_type: str
    source_id: str
    recipient_count: int
    total_amount: Decimal
    recipients: list[TransferRecipient]
    description: str | None
    created_at: datetime


class SpendingApplied(NamedTuple):
    """One applied spending operation, as its `on_applied` hook sees it (inside its transaction,
    never on an idempotent replay). `operation`: REDEMPTION, REVERSAL or TRANSFER; `settlements`:
    lots the operation expired or matured (`engine.store.ledger.settlement.Settlement`)."""

    operation: str
    result: Redemption | Reversal | TransferResult
    program: Program
    asset: Asset
    participant: Participant | None
    settlements: tuple[Any, ...] = ()


SpendingHook = Callable[[SpendingApplied], None]


def scaled(value: Decimal | None, asset: Asset) -> Decimal | None:
    return None if value is None else at_scale(value, asset)


def at_scale(value: Decimal, asset: Asset) -> Decimal:
    """`value` at the asset's scale: zero too is "0.00", never a bare "0"."""
    return Decimal(value).quantize(quantum(asset.scale))


def redemption_of(row: RedemptionRecord, asset: Asset) -> Redemption:
    return Redemption(
        id=row.id,
        participant_id=row.participant_id,
        program_id=row.program_id,
        asset_id=row.asset_id,
        amount=at_scale(row.amount, asset),
        description=row.description,
        journal_entry_id=row.journal_entry_id,
        reward_id=row.reward_id,
        quantity=row.quantity,
        unit_cost=scaled(row.unit_cost, asset),
        reversed_amount=at_scale(row.reversed_amount, asset),
        reversed_quantity=row.reversed_quantity if row.reward_id is not None else None,
        status=row.status,
        redemption_target_type=row.target_type,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def reversal_of(row: ReversalRecord, asset: Asset, redemption: Redemption | None = None) -> Reversal:
    return Reversal(
        id=row.id,
        redemption_id=row.redemption_id,
        amount=at_scale(row.amount, asset),
        quantity=row.quantity,
        reason=row.reason,
        journal_entry_id=row.journal_entry_id,
        created_at=row.created_at,
        redemption=redemption,
    )


def transfer_of(row: TransferRecord, asset: Asset) -> TransferResult:
    return TransferResult(
        id=row.id,
        program_id=row.program_id,
        asset_id=row.asset_id,
        journal_entry_id=row.journal_entry_id,
        source_type=row.source_type,
        source_id=row.source_id,
        recipient_count=row.recipient_count,
        total_amount=at_scale(row.total_amount, asset),
        recipients=[
            TransferRecipient(type=item["type"], id=item["id"], amount=at_scale(Decimal(item["amount"]), asset))
            for item in row.recipients
        ],
        description=row.description,
        created_at=row.created_at,
    )
