"""The movements of spending, each one balanced journal entry (D18):

    REDEMPTION  participant AVAILABLE -> the redemption target (SYSTEM_REDEMPTION by default)
    REVERSAL    the redemption target -> participant AVAILABLE (part or all of a redemption)
    TRANSFER    one holder's AVAILABLE -> 1-100 holders' AVAILABLE, in one entry

On a LOT asset (D34) a redemption and a transfer spend the payer's lots in the asset's spending
order (`lot_take` rows with a negative amount); a reversal restores what the redemption's entry
took, last taken first (positive `lot_take` rows for the reversal's entry), and value restored
into a lot whose expiry has passed expires again at once, with an EXPIRY entry of its own, so it
reaches breakage once; a holder that receives value (a transfer's recipient, a participant named
as redemption target) gets a new lot earned now, without the payer's expiry. Every movement
settles the holders' due lots first, as `movements` does.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.model.lots import LotShortfall, LotStatus, Take
from engine.store.errors import LedgerRejected
from engine.store.ledger.journal import Ledger, Leg, check_transaction_limit
from engine.store.ledger.moves import Entity, at_scale, holds_lots, move
from engine.store.ledger.settlement import settle
from engine.store.models import AVAILABLE, Asset, JournalEntry

ZERO = Decimal(0)


def redeem(
    ledger: Ledger,
    asset: Asset,
    program_id: str,
    payer: Entity,
    amount: Decimal,
    target: Entity,
    *,
    as_of: datetime,
    **fields: Any,
) -> JournalEntry:
    """Move `amount` of the payer's AVAILABLE value to the redemption `target`."""
    check_transaction_limit(amount, asset)
    amount = at_scale(amount, asset)
    takes = spend(ledger, asset, payer, amount, as_of)
    landing = receive(ledger, asset, target, amount, as_of)
    entry = move(
        ledger, "REDEMPTION", asset, amount, (payer, AVAILABLE), (target, AVAILABLE), program_id=program_id, **fields
    )
    ledger.lots.record(entry.id, takes, sign=-1)
    received(ledger, landing, entry, program_id)
    return entry


def reverse(
    ledger: Ledger,
    asset: Asset,
    program_id: str,
    payer: Entity,
    amount: Decimal,
    target: Entity,
    unrestored: list[Take],
    *,
    as_of: datetime,
    **fields: Any,
) -> tuple[JournalEntry, list[Take]]:
    """Give `amount` back from the redemption `target` to the payer; on a LOT asset the lots of
    `unrestored` (what the redemption took and no reversal gave back yet, in taking order) regain
    it, last taken first. Returns the entry and where the value went back."""
    amount = at_scale(amount, asset)
    settle(ledger, asset, payer, as_of)
    takes_back = spend(ledger, asset, target, amount, as_of) if holds_lots(asset, target) else []
    back: list[Take] = []
    if holds_lots(asset, payer):
        pile = ledger.lots.pile(payer, asset, also=[take.lot_id for take in unrestored])
        balance = ledger.accounts.get(payer.type, payer.id, asset, AVAILABLE, payer.scope).balance
        back = pile.restore(unrestored, amount, overdraft=-min(balance, ZERO))
    entry = move(
        ledger, "REVERSAL", asset, amount, (target, AVAILABLE), (payer, AVAILABLE), program_id=program_id, **fields
    )
    ledger.lots.record(entry.id, takes_back, sign=-1)
    ledger.lots.record(entry.id, back, sign=1)
    settle(ledger, asset, payer, as_of)  # value restored into a lot past its expiry expires now
    return entry, back


def transfer(
    ledger: Ledger,
    asset: Asset,
    program_id: str,
    source: Entity,
    recipients: list[tuple[Entity, Decimal]],
    *,
    as_of: datetime,
    **fields: Any,
) -> JournalEntry:
    """Move each recipient's amount from the source's AVAILABLE value, all in one entry."""
    if asset.status != "ACTIVE":
        raise LedgerRejected(f"asset {asset.symbol} is archived", code="asset_archived")
    amounts = [(entity, at_scale(amount, asset)) for entity, amount in recipients]
    total = sum((amount for _, amount in amounts), ZERO)
    check_transaction_limit(total, asset)
    ledger.accounts.prefetch(
        [(e.type, e.id, e.scope, asset.id, AVAILABLE) for e in (source, *(entity for entity, _ in amounts))]
    )
    takes = spend(ledger, asset, source, total, as_of)
    landings = [receive(ledger, asset, entity, amount, as_of) for entity, amount in amounts]
    legs = [Leg(_account(ledger, source, asset), asset, -total)]
    legs += [Leg(_account(ledger, entity, asset), asset, amount) for entity, amount in amounts]
    entry = ledger.post("TRANSFER", legs, program_id=program_id, **fields)
    ledger.lots.record(entry.id, takes, sign=-1)
    for landing in landings:
        received(ledger, landing, entry, program_id)
    return entry


def spend(ledger: Ledger, asset: Asset, holder: Entity, amount: Decimal, as_of: datetime) -> list[Take]:
    """Settle the holder's due lots, then take `amount` from its AVAILABLE lots in spending order
    (nothing on a SIMPLE asset or for a holder without lots); short of value, `insufficient_funds`."""
    settle(ledger, asset, holder, as_of)
    if not holds_lots(asset, holder):
        return []
    try:
        return ledger.lots.pile(holder, asset).take(amount, as_of=as_of, status=LotStatus.AVAILABLE)
    except LotShortfall as exc:
        raise LedgerRejected(
            f"insufficient AVAILABLE balance of {asset.symbol}: unexpired lots hold {exc.available}, {amount} needed",
            code="insufficient_funds",
            bucket=AVAILABLE,
            asset=asset.symbol,
        ) from exc


def receive(ledger: Ledger, asset: Asset, holder: Entity, amount: Decimal, as_of: datetime) -> Any:
    """Settle the holder's due lots and, when it holds lots, credit a new lot earned at `as_of`
    (repaying an overdraft first); `received` links it to the entry once posted."""
    settle(ledger, asset, holder, as_of)
    if not holds_lots(asset, holder):
        return None
    pile = ledger.lots.pile(holder, asset)
    overdraft = -min(_account(ledger, holder, asset).balance, ZERO)
    return pile, pile.credit(amount, as_of=as_of, status=LotStatus.AVAILABLE, overdraft=overdraft)


def received(ledger: Ledger, landing: Any, entry: JournalEntry, program_id: str) -> None:
    if landing is not None:
        pile, lot = landing
        ledger.lots.credited(pile, lot, entry.id, program_id)


def _account(ledger: Ledger, entity: Entity, asset: Asset):
    return ledger.accounts.get(entity.type, entity.id, asset, AVAILABLE, entity.scope)
