"""A plain model of LOT holdings for the property tests: each holder's lots and buckets, and what
each movement and the clock must do to them, written from the rules of D34 without
`engine.model.lots`, so that the two can disagree.

    holder = ModelHolder()
    done = settle(holder, now)                          # the entries the clock must post first
    taken = take(spendable(holder, "FIFO", "AVAILABLE"), 30)
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter

OPEN = ("DEFERRED", "AVAILABLE", "HELD")


@dataclass
class ModelLot:
    key: str  # the stored lot's id; "new" or "split:<origin id>" until the step that made it succeeds
    amount: int
    remaining: int
    status: str
    created: datetime
    expires: datetime | None
    matures: datetime | None
    reference: str | None
    provisional: bool
    source: str | None = None

    def view(self) -> tuple:
        """What storage must hold of this lot (the columns of `STORED` in the tests)."""
        return _VIEW(self)


_FIELDS = "amount remaining status created expires matures reference provisional source"
_VIEW = attrgetter(*_FIELDS.split())


@dataclass
class ModelHolder:
    lots: list[ModelLot] = field(default_factory=list)
    balance: dict[str, int] = field(default_factory=lambda: {"AVAILABLE": 0, "HELD": 0, "DEFERRED": 0})


@dataclass(frozen=True)
class Expected:
    """One entry a step must post: its action, amount, and the (lot, amount) rows of lot_take."""

    action: str
    amount: int
    takes: tuple[tuple[ModelLot, int], ...] = ()


class Refused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def spending_key(order: str):
    """FIFO: earliest earned first. EXPIRING_FIRST: soonest expiry first, lots that never expire
    last, then earliest earned. The stored id breaks ties."""
    if order == "EXPIRING_FIRST":
        return lambda lot: (lot.expires is None, lot.expires or lot.created, lot.created, lot.key)
    return lambda lot: (lot.created, lot.key)


def spendable(holder: ModelHolder, order: str, status: str, reference=None, provisional=False) -> list[ModelLot]:
    found = [
        lot
        for lot in holder.lots
        if lot.status == status
        and lot.remaining > 0
        and (reference is None or lot.reference == reference)
        and (lot.provisional or not provisional)
    ]
    return sorted(found, key=spending_key(order))


def settle(holder: ModelHolder, now: datetime) -> list[Expected]:
    """Expire every open lot whose expiry has come (earliest first), then mature the DEFERRED lots
    whose maturity has come (earliest first), repaying an AVAILABLE overdraft first."""
    done: list[Expected] = []
    for lot in sorted(holder.lots, key=lambda lot: (lot.expires or lot.created, lot.key)):
        if lot.status in OPEN and lot.expires is not None and lot.expires <= now:
            done.append(Expected("EXPIRY", lot.remaining, ((lot, -lot.remaining),)))
            holder.balance[lot.status] -= lot.remaining
            lot.remaining, lot.status = 0, "EXPIRED"
    overdraft = max(-holder.balance["AVAILABLE"], 0)
    for lot in sorted(holder.lots, key=lambda lot: (lot.matures or lot.created, lot.key)):
        if lot.status == "DEFERRED" and lot.matures is not None and lot.matures <= now:
            done.append(Expected("MATURITY", lot.remaining))
            holder.balance["DEFERRED"] -= lot.remaining
            holder.balance["AVAILABLE"] += lot.remaining
            repaid = min(lot.remaining, overdraft)
            overdraft -= repaid
            lot.remaining -= repaid
            lot.status = "AVAILABLE" if lot.remaining else "CONSUMED"
    return done


def take(lots: list[ModelLot], amount: int) -> tuple[tuple[ModelLot, int], ...]:
    """Spend up to `amount` from `lots` in their order; the lot_take rows (negative)."""
    taken = []
    for lot in lots:
        if amount <= 0:
            break
        part = min(lot.remaining, amount)
        lot.remaining -= part
        lot.status = lot.status if lot.remaining else "CONSUMED"
        taken.append((lot, -part))
        amount -= part
    return tuple(taken)


def move(holder: ModelHolder, lots: list[ModelLot], amount: int, target: str, reference) -> list[tuple[ModelLot, int]]:
    """Move `amount` from `lots` to `target`, splitting the last lot moved in part; the part in
    `target` keeps the lot's dates and takes `reference` on a hold."""
    moved = []
    stamp = reference if target == "HELD" else None
    for lot in lots:
        if amount <= 0:
            break
        part = min(lot.remaining, amount)
        amount -= part
        if part == lot.remaining:
            lot.status, lot.reference, lot.provisional = target, stamp, False
            moved.append((lot, part))
            continue
        lot.remaining -= part
        split = copy.copy(lot)
        split.key, split.amount, split.remaining, split.source = f"split:{lot.key}", part, part, lot.key
        split.status, split.reference, split.provisional = target, stamp, False
        holder.lots.append(split)
        moved.append((split, part))
    return moved


def repay_overdraft(holder: ModelHolder, arrived: list[tuple[ModelLot, int]]) -> None:
    """Value arriving in an overdrawn AVAILABLE bucket repays the overdraft first, from the
    arriving lots in the order they arrived (the overdraft was spent before they came)."""
    overdraft = max(-holder.balance["AVAILABLE"], 0)
    for lot, part in arrived:
        repaid = min(part, overdraft)
        overdraft -= repaid
        lot.remaining -= repaid
        lot.status = lot.status if lot.remaining else "CONSUMED"
