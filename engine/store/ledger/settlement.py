"""The clock's movements: lots of LOT assets past their expiry expire (their remaining value goes
to SYSTEM_BREAKAGE), DEFERRED lots past their maturity mature (to AVAILABLE), and so do the due
DEFERRED credits of SIMPLE assets, each in an entry of its own. Every movement that spends or
moves a holder's value settles first, and the scheduler settles the holders nobody touches (D33),
so value expires and matures exactly once, whoever gets there first.

    done = settle(ledger, asset, holder, as_of=now)    # [Settlement(kind="EXPIRED", ...), ...]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.model.lots import Take
from engine.store.ledger.accounts import lock
from engine.store.ledger.deferred import due_deferred
from engine.store.ledger.journal import Ledger
from engine.store.ledger.moves import Entity, holds_lots, move, system
from engine.store.models import AVAILABLE, DEFERRED, GROUP, PARTICIPANT, SYSTEM_BREAKAGE, Account, Asset, DeferredCredit

ZERO = Decimal(0)
HOLDERS = (PARTICIPANT, GROUP)  # whose value expires and matures; wallets and system accounts never do


@dataclass(frozen=True)
class Settlement:
    """A lot the clock settled: EXPIRED (value to breakage) or MATURED, with its entry."""

    kind: str
    lot_id: str
    amount: Decimal
    entity: Entity
    asset: Asset
    program_id: str | None
    entry_id: str


def settle(ledger: Ledger, asset: Asset, entity: Entity, as_of: datetime) -> list[Settlement]:
    """Expire and mature the holder's lots that are due at `as_of`, each with an entry of its own
    (EXPIRY: the lot's bucket to SYSTEM_BREAKAGE; MATURITY: DEFERRED to AVAILABLE), and record
    them on the ledger (`ledger.settlements`) for the caller to report. On a SIMPLE asset, the
    holder's due DEFERRED credits mature."""
    if entity.type not in HOLDERS:
        return []
    if not holds_lots(asset, entity):
        due = due_deferred(entity.type, entity.id, asset.id, as_of, entity.scope)
        matured = [mature_credit(ledger, credit_id) for credit_id, _ in due]
        return [item for item in matured if item is not None]
    pile = ledger.lots.pile(entity, asset)
    if not pile.due_at(as_of):
        return []
    available = ledger.accounts.get(entity.type, entity.id, asset, AVAILABLE, entity.scope).balance
    done: list[Settlement] = []
    for item in pile.settle(as_of, overdraft=-min(available, ZERO)):
        program_id = ledger.lots.program_of(pile, item.lot_id)
        if item.kind == "EXPIRED":
            entry = move(
                ledger,
                "EXPIRY",
                asset,
                item.amount,
                (entity, str(item.from_status)),
                (system(SYSTEM_BREAKAGE), AVAILABLE),
                program_id=program_id,
                description="lot expired",
                reference_id=item.reference_id,
            )
            ledger.lots.record(entry.id, [Take(lot_id=item.lot_id, amount=item.amount)], sign=-1)
            ledger.lots.expired(pile, item.lot_id, entry.id, item.amount)
        else:
            entry = move(
                ledger,
                "MATURITY",
                asset,
                item.amount,
                (entity, DEFERRED),
                (entity, AVAILABLE),
                program_id=program_id,
                description="deferred credit matured",
            )
        settlement = Settlement(item.kind, item.lot_id, item.amount, entity, asset, program_id, entry.id)
        ledger.settlements.append(settlement)
        done.append(settlement)
    return done


def mature_credit(ledger: Ledger, credit_id: str) -> Settlement | None:
    """Move one DEFERRED credit of a SIMPLE asset to AVAILABLE, once: its row is locked and read
    again here, so a credit another transaction matured is skipped (None)."""
    credit = lock(
        DeferredCredit.select().where((DeferredCredit.id == credit_id) & DeferredCredit.matured_entry_id.is_null())
    ).first()
    if credit is None:
        return None
    account = Account.get_by_id(credit.account_id)
    asset = Asset.get_by_id(account.asset_id)
    holder = Entity(account.entity_type, account.entity_id, account.program_scope)
    entry = move(
        ledger,
        "MATURITY",
        asset,
        credit.amount,
        (holder, DEFERRED),
        (holder, AVAILABLE),
        program_id=credit.program_id,
        description="deferred credit matured",
    )
    DeferredCredit.update(matured_entry_id=entry.id).where(DeferredCredit.id == credit.id).execute()
    settlement = Settlement("MATURED", credit.id, credit.amount, holder, asset, credit.program_id, entry.id)
    ledger.settlements.append(settlement)
    return settlement
