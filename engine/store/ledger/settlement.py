"""The clock's movements of LOT assets: lots past their expiry expire (their remaining value goes
to SYSTEM_BREAKAGE) and DEFERRED lots past their maturity mature (to AVAILABLE), each in an entry
of its own. Every movement of a holder's lots settles first, and the scheduler settles the
holders nobody touches (D33), so value is expired exactly once, whoever gets there first.

    done = settle(ledger, asset, holder, as_of=now)    # [Settlement(kind="EXPIRED", ...), ...]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.model.lots import Take
from engine.store.ledger.journal import Ledger
from engine.store.ledger.moves import Entity, holds_lots, move, system
from engine.store.models import AVAILABLE, DEFERRED, SYSTEM_BREAKAGE, Asset

ZERO = Decimal(0)


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
    them on the ledger (`ledger.settlements`) for the caller to report."""
    if not holds_lots(asset, entity):
        return []
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
