"""The lots of one write transaction: loaded with their accounts' locks, moved by the pure rules of
`engine.model.lots`, written back by `Ledger.finish` with the journal entries that moved them.

    pile = ledger.lots.pile(entity, asset)                 # the holder's open lots, locked
    takes = pile.take(amount, as_of=now)                   # the rules of engine.model.lots
    ledger.lots.record(entry.id, takes, sign=-1)           # lot_take rows, written at finish

Every movement of a LOT asset goes through here (`movements`), so the open lots of each bucket
keep adding up to its balance (or to zero while the balance is negative).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import msgspec

from engine.model.lots import OPEN_STATUSES, Lot, LotPile, LotStatus, Take
from engine.model.state import Balance
from engine.store import statements
from engine.store.db import new_id, utcnow
from engine.store.ledger.accounts import Entity
from engine.store.ledger.deferred import due_deferred, matured_view
from engine.store.models import Asset, LotRecord, LotTake

PileKey = tuple[str, str, str, str]  # entity_type, entity_id, program_scope, asset_id
_OPEN = "status IN ('DEFERRED', 'AVAILABLE', 'HELD')"  # an open lot always has value left
_HOLDER = "entity_type = {p} AND entity_id = {p} AND program_scope = {p} AND asset_id = {p}"


def to_lot(row: LotRecord) -> Lot:
    return Lot(
        id=row.id,
        amount=row.amount,
        remaining=row.remaining,
        status=LotStatus(row.status),
        created_at=row.created_at,
        expires_at=row.expires_at,
        matures_at=row.matures_at,
        reference_id=row.reference_id,
        provisional=row.provisional,
        source_lot_id=row.source_lot_id,
    )


@dataclass
class _Stored:
    """A pile and what the rows it came from carry beyond the pure lot."""

    pile: LotPile
    key: PileKey
    loaded: set[str]
    program_id: dict[str, str | None] = field(default_factory=dict)
    credit_entry: dict[str, str | None] = field(default_factory=dict)
    expired: dict[str, tuple[str, Decimal]] = field(default_factory=dict)  # lot id -> (entry id, amount)


class LotBook:
    """The piles one transaction touches, by holder and asset, and the takes it recorded."""

    def __init__(self, organisation_id: str) -> None:
        self.organisation_id = organisation_id
        self._piles: dict[PileKey, _Stored] = {}
        self._takes: list[dict] = []
        self.processed: dict[str, list[Take]] = {}  # entry id -> the lots it moved (what the API reports)

    def pile(self, entity: Entity, asset: Asset, *, also: list[str] | None = None) -> LotPile:
        """The holder's open lots of `asset` (and the lots `also` names, whatever their status),
        read once per transaction; the caller holds the holder's account locks."""
        key = (entity.type, entity.id, entity.scope, asset.id)
        stored = self._piles.get(key)
        if stored is None:
            rows = statements.fetch(LotRecord, f"{_HOLDER} AND {_OPEN}", list(key), for_update=True)
            stored = _Stored(
                pile=LotPile([to_lot(row) for row in rows], asset.spending_order, new_id), key=key, loaded=set()
            )
            for row in rows:
                self._remember(stored, row)
            self._piles[key] = stored
        missing = [lot_id for lot_id in also or () if lot_id not in stored.loaded]
        if missing:
            where = f"{_HOLDER} AND id IN ({statements.marks(len(missing))})"
            for row in statements.fetch(LotRecord, where, [*key, *missing], for_update=True):
                stored.pile.lots.append(to_lot(row))
                self._remember(stored, row)
        return stored.pile

    def preload(self, asset: Asset, entities: list[Entity]) -> None:
        """Load (and lock) the open lots of several holders of `asset` with one statement per kind
        of holder, as `pile` would one by one (the sweep settles many holders per transaction)."""
        wanted: dict[tuple[str, str], list[str]] = {}
        for entity in entities:
            if (entity.type, entity.id, entity.scope, asset.id) not in self._piles:
                wanted.setdefault((entity.type, entity.scope), []).append(entity.id)
        for (entity_type, scope), ids in wanted.items():
            ids = list(dict.fromkeys(ids))
            where = (
                f"entity_type = {{p}} AND entity_id IN ({statements.marks(len(ids))}) "
                f"AND program_scope = {{p}} AND asset_id = {{p}} AND {_OPEN}"
            )
            rows = statements.fetch(LotRecord, where, [entity_type, *ids, scope, asset.id], for_update=True)
            piles = {
                entity_id: _Stored(
                    pile=LotPile([], asset.spending_order, new_id),
                    key=(entity_type, entity_id, scope, asset.id),
                    loaded=set(),
                )
                for entity_id in ids
            }
            for row in rows:
                stored = piles[row.entity_id]
                stored.pile.lots.append(to_lot(row))
                self._remember(stored, row)
            for stored in piles.values():
                self._piles[stored.key] = stored

    def _remember(self, stored: _Stored, row: LotRecord) -> None:
        stored.loaded.add(row.id)
        stored.program_id[row.id] = row.program_id
        stored.credit_entry[row.id] = row.credit_entry_id

    def credited(self, pile: LotPile, lot: Lot, entry_id: str, program_id: str | None) -> None:
        """Link a new lot to the entry that made its value and the program it was earned in."""
        stored = self._stored(pile)
        stored.credit_entry[lot.id], stored.program_id[lot.id] = entry_id, program_id

    def program_of(self, pile: LotPile, lot_id: str) -> str | None:
        """The program a lot's value was earned in."""
        stored = self._stored(pile)
        lot = next((lot for lot in pile.lots if lot.id == lot_id), None)
        origin = lot.source_lot_id if lot is not None and lot_id not in stored.program_id else None
        return stored.program_id.get(lot_id) or (stored.program_id.get(origin) if origin else None)

    def expired(self, pile: LotPile, lot_id: str, entry_id: str, amount: Decimal) -> None:
        self._stored(pile).expired[lot_id] = (entry_id, amount)

    def record(self, entry_id: str, takes: list[Take], *, sign: int) -> None:
        """Value `takes` moved out of (`sign=-1`) or back into (`sign=1`) lots by entry `entry_id`."""
        if takes:
            self.processed[entry_id] = takes
        for take in takes:
            self._takes.append(
                {
                    "id": new_id(),
                    "lot": take.lot_id,
                    "entry_id": entry_id,
                    "position": len(self._takes),
                    "amount": take.amount * sign,
                    "created_at": utcnow(),
                }
            )

    def _stored(self, pile: LotPile) -> _Stored:
        for stored in self._piles.values():
            if stored.pile is pile:
                return stored
        raise KeyError("a pile this book did not load")

    def flush(self) -> None:
        """Write every changed lot and the recorded takes (inside the ledger's transaction)."""
        now = utcnow()
        updates: list[tuple[str, dict]] = []
        for stored in self._piles.values():
            new_rows = []
            for lot in stored.pile.lots:
                if lot.id not in stored.pile.changed:
                    continue
                source = lot.source_lot_id
                if lot.id not in stored.loaded and source is not None:  # a split inherits its origin
                    stored.program_id.setdefault(lot.id, stored.program_id.get(source))
                    stored.credit_entry.setdefault(lot.id, stored.credit_entry.get(source))
                expired_entry, expired_amount = stored.expired.get(lot.id, (None, None))
                if lot.id in stored.loaded:
                    changes: dict = {"remaining": lot.remaining, "status": str(lot.status), "updated_at": now}
                    changes.update(reference_id=lot.reference_id, provisional=lot.provisional)
                    if expired_entry is not None:
                        changes.update(expired_entry_id=expired_entry, expired_amount=expired_amount)
                    updates.append((lot.id, changes))
                else:
                    new_rows.append(self._row(stored, lot, now, expired_entry, expired_amount))
            if new_rows:
                statements.insert(LotRecord, new_rows)
            stored.pile.changed.clear()
            stored.loaded.update(row["id"] for row in new_rows)
        statements.update_many(LotRecord, updates)
        if self._takes:
            statements.insert(LotTake, self._takes)
            self._takes = []

    def _row(self, stored: _Stored, lot: Lot, now: datetime, expired_entry, expired_amount) -> dict:
        entity_type, entity_id, scope, asset_id = stored.key
        return {
            "id": lot.id,
            "organisation": self.organisation_id,
            "program": stored.program_id.get(lot.id),
            "asset": asset_id,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "program_scope": scope,
            "amount": lot.amount,
            "remaining": lot.remaining,
            "status": str(lot.status),
            "reference_id": lot.reference_id,
            "provisional": lot.provisional,
            "expires_at": lot.expires_at,
            "matures_at": lot.matures_at,
            "created_at": lot.created_at,
            "source_lot_id": lot.source_lot_id,
            "credit_entry_id": stored.credit_entry.get(lot.id),
            "expired_entry_id": expired_entry,
            "expired_amount": expired_amount,
            "updated_at": now,
        }


def open_lots(entity_type: str, entity_id: str, asset_ids: list[str], program_scope: str = "") -> dict[str, list[Lot]]:
    """The holder's open lots by asset id, without locks (for reads and the engine's context)."""
    if not asset_ids:
        return {}
    where = (
        f"entity_type = {{p}} AND entity_id = {{p}} AND program_scope = {{p}} "
        f"AND asset_id IN ({statements.marks(len(asset_ids))}) AND {_OPEN}"
    )
    found: dict[str, list[Lot]] = {asset_id: [] for asset_id in asset_ids}
    for row in statements.fetch(LotRecord, where, [entity_type, entity_id, program_scope, *asset_ids]):
        found[row.asset_id].append(to_lot(row))
    return found


def balances_as_of(
    entity_type: str, entity_id: str, balances: dict[str, Balance], now: datetime, program_scope: str = ""
) -> dict[str, Balance]:
    """`balances` (by asset id) as they stand at `now`: on LOT assets, the value of lots past
    their expiry is left out and lots past their maturity count as AVAILABLE, and on SIMPLE assets
    so do DEFERRED credits past their maturity, whether or not the scheduler has settled them yet
    (D33), so a late sweep never shows a wrong number."""
    lot_assets = [
        row.id for row in Asset.select(Asset.id).where(Asset.id.in_(list(balances)), Asset.inventory_mode == "LOT")
    ]
    viewed = dict(balances)
    for asset_id, balance in balances.items():  # SIMPLE: DEFERRED credits whose maturity has come
        if balance.deferred > 0 and asset_id not in lot_assets:
            viewed[asset_id] = matured_view(balance, due_deferred(entity_type, entity_id, asset_id, now, program_scope))
    if not lot_assets:
        return viewed
    for asset_id, lots in open_lots(entity_type, entity_id, lot_assets, program_scope).items():
        pile = LotPile([msgspec.structs.replace(lot) for lot in lots], "FIFO", new_id)
        if not pile.due_at(now):
            continue
        balance = Balance(
            available=balances[asset_id].available, held=balances[asset_id].held, deferred=balances[asset_id].deferred
        )
        for done in pile.settle(now, overdraft=-min(balance.available, Decimal(0))):
            field = _BUCKET_FIELD[done.from_status]
            setattr(balance, field, getattr(balance, field) - done.amount)
            if done.kind == "MATURED":
                balance.available += done.amount
        viewed[asset_id] = balance
    return viewed


_BUCKET_FIELD = {LotStatus.AVAILABLE: "available", LotStatus.HELD: "held", LotStatus.DEFERRED: "deferred"}


__all__ = ["OPEN_STATUSES", "LotBook", "balances_as_of", "open_lots", "to_lot"]
