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
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.model import amounts
from engine.model.amounts import AmountError
from engine.store.errors import LedgerRejected
from engine.store.ledger.journal import Ledger, Leg, check_transaction_limit
from engine.store.models import AVAILABLE, HELD, PROGRAM, SYSTEM, SYSTEM_BREAKAGE, SYSTEM_ISSUANCE, Asset, JournalEntry


@dataclass(frozen=True)
class Entity:
    """A ledger entity: PARTICIPANT / GROUP / PROGRAM / SYSTEM and its id (group accounts are also
    scoped to a program)."""

    type: str
    id: str
    scope: str = ""


def system(name: str) -> Entity:
    return Entity(SYSTEM, name)


def source_of(asset: Asset, program_id: str) -> Entity:
    """Where credits of `asset` in a program come from."""
    return Entity(PROGRAM, program_id) if asset.issuance_policy == "PREFUNDED" else system(SYSTEM_ISSUANCE)


def at_scale(amount: Decimal, asset: Asset) -> Decimal:
    """`amount` at the asset's scale (`engine.model.amounts.at_scale`), or `LedgerRejected`."""
    try:
        return amounts.at_scale(amount, asset.scale)
    except AmountError as exc:
        raise LedgerRejected(f"{exc.message} ({asset.symbol})", code=exc.code, scale=asset.scale) from exc


def _leg(ledger: Ledger, entity: Entity, asset: Asset, bucket: str, amount: Decimal, allow_negative=False) -> Leg:
    account = ledger.accounts.get(entity.type, entity.id, asset, bucket, entity.scope)
    return Leg(account, asset, amount, allow_negative)


def move(
    ledger: Ledger,
    action_type: str,
    asset: Asset,
    amount: Decimal,
    source: tuple[Entity, str],
    destination: tuple[Entity, str],
    *,
    allow_negative: bool = False,
    **fields,
) -> JournalEntry:
    """Post `amount` from (entity, bucket) `source` to `destination` as one entry."""
    if amount <= 0:
        raise LedgerRejected(f"amount must be positive, got {amount}", code="invalid_amount")
    if asset.status != "ACTIVE":
        raise LedgerRejected(f"asset {asset.symbol} is archived", code="asset_archived")
    amount = at_scale(amount, asset)
    ledger.accounts.prefetch(
        [(entity.type, entity.id, entity.scope, asset.id, bucket) for entity, bucket in (source, destination)]
    )
    legs = [
        _leg(ledger, source[0], asset, source[1], -amount, allow_negative),
        _leg(ledger, destination[0], asset, destination[1], amount),
    ]
    return ledger.post(action_type, legs, **fields)


def credit(ledger, asset, program_id, entity, amount, bucket=AVAILABLE, **fields) -> JournalEntry:
    check_transaction_limit(amount, asset)
    source = source_of(asset, program_id)
    try:
        return move(
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


def debit(ledger, asset, program_id, entity, amount, bucket=AVAILABLE, allow_negative=False, **fields) -> JournalEntry:
    check_transaction_limit(amount, asset)
    return move(
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


def hold(ledger, asset, program_id, entity, amount, **fields) -> JournalEntry:
    return move(ledger, "HOLD", asset, amount, (entity, AVAILABLE), (entity, HELD), program_id=program_id, **fields)


def release(ledger, asset, program_id, entity, amount, **fields) -> JournalEntry:
    return move(ledger, "RELEASE", asset, amount, (entity, HELD), (entity, AVAILABLE), program_id=program_id, **fields)


def forfeit(ledger, asset, program_id, entity, amount, bucket=AVAILABLE, **fields) -> JournalEntry:
    return move(
        ledger,
        "FORFEIT",
        asset,
        amount,
        (entity, bucket),
        (system(SYSTEM_BREAKAGE), AVAILABLE),
        program_id=program_id,
        **fields,
    )


def void_hold(ledger, asset, program_id, entity, amount, **fields) -> JournalEntry:
    return move(
        ledger,
        "VOID_HOLD",
        asset,
        amount,
        (entity, HELD),
        (source_of(asset, program_id), AVAILABLE),
        program_id=program_id,
        **fields,
    )


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
