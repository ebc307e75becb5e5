"""The ledger movements every caller shares: rules' actions (`effects`) and direct operations.

Each function posts one balanced entry through a `Ledger` and returns it. Where value comes from
and goes to (D18, A29):

    CREDIT     source -> entity bucket     source: SYSTEM_ISSUANCE (UNLIMITED) or the program
                                           wallet (PREFUNDED, fails when it is short)
    DEBIT      entity bucket -> source     value returns where credits take it from
    HOLD       AVAILABLE -> HELD           same entity
    RELEASE    HELD -> AVAILABLE           same entity
    FORFEIT    bucket -> SYSTEM_BREAKAGE
    VOID_HOLD  HELD -> source              cancels a provisional accrual
    FUND       SYSTEM_ISSUANCE -> wallet   PREFUNDED assets only
    BURN       wallet -> SYSTEM_BREAKAGE   cannot exceed the wallet
    EXPIRY     bucket -> SYSTEM_BREAKAGE   a lot's remaining value at its expiry (LOT assets)
    MATURITY   DEFERRED -> AVAILABLE       a credit whose maturity came

On a LOT asset (D34) every movement of a participant's or group's value also moves its lots
(`engine.model.lots`, through the transaction's `ledger.lots`), after settling what is due at
`as_of`: lots past their expiry expire and lots past their maturity mature first, each with an
entry of its own, so what the movement spends is never expired.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.model.lots import ANY, LotFilter, LotShortfall, LotStatus, Take
from engine.store import statements
from engine.store.db import new_id, utcnow
from engine.store.errors import LedgerRejected
from engine.store.ledger.journal import Ledger, check_transaction_limit
from engine.store.ledger.moves import Entity, at_scale, holds_lots, move, source_of, system
from engine.store.ledger.settlement import Settlement, settle
from engine.store.models import (
    AVAILABLE,
    DEFERRED,
    HELD,
    PROGRAM,
    SYSTEM_BREAKAGE,
    SYSTEM_ISSUANCE,
    Asset,
    DeferredCredit,
    JournalEntry,
)

ZERO = Decimal(0)


def credit(
    ledger: Ledger,
    asset: Asset,
    program_id: str,
    entity: Entity,
    amount: Decimal,
    bucket: str = AVAILABLE,
    *,
    as_of: datetime | None = None,
    expires_at: datetime | None = None,
    matures_at: datetime | None = None,
    **fields: Any,
) -> JournalEntry:
    """Credit `entity`'s bucket from the asset's source. On a LOT asset the value is a new lot,
    earned at `as_of`, DEFERRED while `matures_at` is ahead; on a SIMPLE asset a DEFERRED credit is
    listed for maturity."""
    check_transaction_limit(amount, asset)
    amount = at_scale(amount, asset)
    lot = pile = None
    if holds_lots(asset, entity):
        as_of = as_of or utcnow()
        settle(ledger, asset, entity, as_of)
        pile = ledger.lots.pile(entity, asset)
        status = LotStatus(bucket)
        overdraft = -min(ledger.accounts.get(entity.type, entity.id, asset, bucket, entity.scope).balance, ZERO)
        lot = pile.credit(
            amount,
            as_of=as_of,
            status=status,
            expires_at=expires_at,
            matures_at=matures_at,
            reference_id=fields.get("reference_id"),
            overdraft=overdraft,
        )
        bucket = DEFERRED if lot.status == LotStatus.DEFERRED else bucket
    elif bucket != DEFERRED and matures_at is not None and matures_at > (as_of or utcnow()):
        bucket = DEFERRED
    source = source_of(asset, program_id)
    try:
        entry = move(
            ledger, "CREDIT", asset, amount, (source, AVAILABLE), (entity, bucket), program_id=program_id, **fields
        )
    except LedgerRejected as exc:
        if exc.code == "insufficient_funds" and source.type == PROGRAM:
            raise LedgerRejected(  # the engine's code for the same refusal
                f"the program wallet holds too little {asset.symbol} for a credit of {amount}",
                code="insufficient_wallet",
                asset=asset.symbol,
            ) from exc
        raise
    if lot is not None and pile is not None:
        ledger.lots.credited(pile, lot, entry.id, program_id)
    elif bucket == DEFERRED and matures_at is not None:
        _defer(ledger, entity, asset, program_id, entry, amount, matures_at)
    return entry


def debit(
    ledger: Ledger,
    asset: Asset,
    program_id: str,
    entity: Entity,
    amount: Decimal,
    bucket: str = AVAILABLE,
    allow_negative: bool = False,
    *,
    as_of: datetime | None = None,
    **fields: Any,
) -> JournalEntry:
    """Return value from `entity`'s bucket to the asset's source; on a LOT asset the lots are
    spent in its spending order, and what they lack is an overdraft when `allow_negative`."""
    check_transaction_limit(amount, asset)
    takes = _spend(ledger, asset, entity, amount, bucket, as_of, allow_short=allow_negative)
    entry = move(
        ledger,
        "DEBIT",
        asset,
        amount,
        (entity, bucket),
        (source_of(asset, program_id), AVAILABLE),
        allow_negative=allow_negative,
        program_id=program_id,
        **fields,
    )
    ledger.lots.record(entry.id, takes, sign=-1)
    return entry


def forfeit(
    ledger: Ledger,
    asset: Asset,
    program_id: str,
    entity: Entity,
    amount: Decimal,
    bucket: str = AVAILABLE,
    *,
    as_of: datetime | None = None,
    only: LotFilter = ANY,
    **fields: Any,
) -> JournalEntry:
    """Move value of `entity`'s bucket to SYSTEM_BREAKAGE (on a LOT asset, lots the filter admits)."""
    takes = _spend(ledger, asset, entity, amount, bucket, as_of, only=only)
    entry = move(
        ledger,
        "FORFEIT",
        asset,
        amount,
        (entity, bucket),
        (system(SYSTEM_BREAKAGE), AVAILABLE),
        program_id=program_id,
        **fields,
    )
    ledger.lots.record(entry.id, takes, sign=-1)
    return entry


def hold(
    ledger: Ledger,
    asset: Asset,
    program_id: str,
    entity: Entity,
    amount: Decimal,
    *,
    as_of: datetime | None = None,
    only: LotFilter = ANY,
    **fields: Any,
) -> JournalEntry:
    """Move AVAILABLE to HELD; on a LOT asset the lots keep their dates and take the reference."""
    moved = _move_lots(ledger, asset, entity, amount, LotStatus.AVAILABLE, LotStatus.HELD, as_of, only, fields)
    entry = move(ledger, "HOLD", asset, amount, (entity, AVAILABLE), (entity, HELD), program_id=program_id, **fields)
    ledger.lots.processed[entry.id] = moved
    return entry


def release(
    ledger: Ledger,
    asset: Asset,
    program_id: str,
    entity: Entity,
    amount: Decimal | None,
    *,
    as_of: datetime | None = None,
    only: LotFilter = ANY,
    **fields: Any,
) -> JournalEntry:
    """Move HELD back to AVAILABLE; `amount` None releases every lot the filter admits (LOT)."""
    moved = _move_lots(ledger, asset, entity, amount, LotStatus.HELD, LotStatus.AVAILABLE, as_of, only, fields)
    if amount is None:
        amount = sum((take.amount for take in moved), ZERO)
    entry = move(ledger, "RELEASE", asset, amount, (entity, HELD), (entity, AVAILABLE), program_id=program_id, **fields)
    ledger.lots.processed[entry.id] = moved
    return entry


def void_hold(
    ledger: Ledger,
    asset: Asset,
    program_id: str,
    entity: Entity,
    amount: Decimal | None,
    *,
    as_of: datetime | None = None,
    **fields: Any,
) -> JournalEntry:
    """Cancel a provisional accrual: value credited straight into HELD under the entry's
    `reference_id` returns to its source. On a LOT asset the amount is what the provisional lots of
    that reference hold (value a HOLD moved there is never voided)."""
    takes: list[Take] = []
    if holds_lots(asset, entity):
        as_of = as_of or utcnow()
        settle(ledger, asset, entity, as_of)
        provisional = LotFilter(reference_id=fields.get("reference_id"), provisional_only=True)
        pile = ledger.lots.pile(entity, asset)
        amount = pile.total(LotStatus.HELD, as_of, provisional)
        if amount <= 0:
            raise LedgerRejected(
                f"no provisional {asset.symbol} held under reference {fields.get('reference_id')!r}",
                code="hold_not_found",
            )
        takes = pile.take(amount, as_of=as_of, status=LotStatus.HELD, only=provisional)
    if amount is None:
        raise LedgerRejected("void-hold needs the amount held under the reference", code="hold_not_found")
    entry = move(
        ledger,
        "VOID_HOLD",
        asset,
        amount,
        (entity, HELD),
        (source_of(asset, program_id), AVAILABLE),
        program_id=program_id,
        **fields,
    )
    ledger.lots.record(entry.id, takes, sign=-1)
    return entry


def fund(ledger, asset, program_id, amount, **fields) -> JournalEntry:
    _require_prefunded(asset, "fund")
    return move(
        ledger,
        "FUND",
        asset,
        amount,
        (system(SYSTEM_ISSUANCE), AVAILABLE),
        (Entity(PROGRAM, program_id), AVAILABLE),
        program_id=program_id,
        **fields,
    )


def burn(ledger, asset, program_id, amount, **fields) -> JournalEntry:
    _require_prefunded(asset, "burn")
    return move(
        ledger,
        "BURN",
        asset,
        amount,
        (Entity(PROGRAM, program_id), AVAILABLE),
        (system(SYSTEM_BREAKAGE), AVAILABLE),
        program_id=program_id,
        **fields,
    )


def _require_prefunded(asset: Asset, what: str) -> None:
    if asset.issuance_policy != "PREFUNDED":
        raise LedgerRejected(
            f"{asset.symbol} is UNLIMITED: credits mint it, there is no wallet to {what}",
            code="asset_not_prefunded",
        )


# --- lots and deferred credits -----------------------------------------------------------------


def _spend(
    ledger: Ledger,
    asset: Asset,
    entity: Entity,
    amount: Decimal,
    bucket: str,
    as_of: datetime | None,
    *,
    allow_short: bool = False,
    only: LotFilter = ANY,
) -> list[Take]:
    as_of = as_of or utcnow()
    settle(ledger, asset, entity, as_of)  # what expired is not spent; what matured is
    if not holds_lots(asset, entity):
        return []
    try:
        return ledger.lots.pile(entity, asset).take(
            at_scale(amount, asset), as_of=as_of, status=LotStatus(bucket), only=only, allow_short=allow_short
        )
    except LotShortfall as exc:
        raise LedgerRejected(
            f"insufficient {bucket} balance of {asset.symbol}: unexpired lots hold {exc.available}, {amount} needed",
            code="insufficient_funds",
            bucket=bucket,
            asset=asset.symbol,
        ) from exc


def _move_lots(ledger, asset, entity, amount, source, target, as_of, only, fields) -> list[Take]:
    as_of = as_of or utcnow()
    settle(ledger, asset, entity, as_of)
    if not holds_lots(asset, entity):
        return []
    overdraft = -min(ledger.accounts.get(entity.type, entity.id, asset, str(target), entity.scope).balance, ZERO)
    try:
        return ledger.lots.pile(entity, asset).move(
            None if amount is None else at_scale(amount, asset),
            as_of=as_of,
            source=source,
            target=target,
            only=only,
            reference_id=fields.get("reference_id"),
            overdraft=overdraft,
        )
    except LotShortfall as exc:
        raise LedgerRejected(
            f"insufficient {source} balance of {asset.symbol}: the lots hold {exc.available}, {exc.needed} needed",
            code="insufficient_funds",
            bucket=str(source),
            asset=asset.symbol,
        ) from exc


def _defer(ledger: Ledger, entity: Entity, asset: Asset, program_id: str, entry, amount: Decimal, matures_at) -> None:
    """List a SIMPLE asset's DEFERRED credit for maturity."""
    account = ledger.accounts.get(entity.type, entity.id, asset, DEFERRED, entity.scope)
    statements.insert(
        DeferredCredit,
        [
            {
                "id": new_id(),
                "organisation": ledger.organisation_id,
                "program": program_id,
                "account": account.id,
                "credit_entry_id": entry.id,
                "amount": amount,
                "matures_at": matures_at,
                "matured_entry_id": None,
                "created_at": utcnow(),
            }
        ],
    )


__all__ = [
    "Entity",
    "Settlement",
    "at_scale",
    "burn",
    "credit",
    "debit",
    "forfeit",
    "fund",
    "hold",
    "holds_lots",
    "move",
    "release",
    "settle",
    "source_of",
    "system",
    "void_hold",
]
