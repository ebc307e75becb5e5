"""The shape of every ledger movement: a ledger entity, where an asset's value comes from, and one
balanced two-posting entry (`move`). `movements` builds the named movements on it.

    entry = move(ledger, "HOLD", asset, amount, (person, "AVAILABLE"), (person, "HELD"), program_id=program)
"""

from __future__ import annotations

from decimal import Decimal

from engine.model import amounts
from engine.model.amounts import AmountError
from engine.store.errors import LedgerRejected
from engine.store.ledger.accounts import Entity
from engine.store.ledger.journal import Ledger, Leg
from engine.store.models import GROUP, PARTICIPANT, PROGRAM, SYSTEM, SYSTEM_ISSUANCE, Asset, JournalEntry


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


def holds_lots(asset: Asset, entity: Entity) -> bool:
    """Whether `entity`'s value of `asset` is kept as lots (participants and groups of LOT assets)."""
    return asset.inventory_mode == "LOT" and entity.type in (PARTICIPANT, GROUP)
