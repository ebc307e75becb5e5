"""Lots: the value of a LOT asset kept as the credits that made it, each with its own remaining
amount, dates and status, and the rules that move value between them (D34). Pure: the evaluator
runs them on the state a rule sees, storage on the rows it has locked, with the same outcome.

    pile = LotPile(lots, order="FIFO", new_id=ids)
    pile.credit(Decimal(100), as_of=now, expires_at=now + timedelta(days=365))
    taken = pile.take(Decimal(30), as_of=now)        # [Take(lot_id=..., amount=Decimal('30'))]
    settled = pile.settle(as_of=later)               # lots expired or matured by `later`

A lot's `status` is the bucket its remaining value sits in (DEFERRED, AVAILABLE, HELD), or
CONSUMED / EXPIRED once nothing remains. For each bucket, the remaining amounts of its lots add
up to the bucket's balance, or to zero while the balance is negative (an overdraft, which the
next value into the bucket repays first). Spending takes lots in the asset's spending order and
never takes an expired lot; holding or releasing part of a lot splits it, the part keeping the
lot's dates.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal

import msgspec

ZERO = Decimal(0)


class LotStatus(enum.StrEnum):
    DEFERRED = "DEFERRED"
    AVAILABLE = "AVAILABLE"
    HELD = "HELD"
    CONSUMED = "CONSUMED"
    EXPIRED = "EXPIRED"


OPEN_STATUSES = (LotStatus.DEFERRED, LotStatus.AVAILABLE, LotStatus.HELD)


class SpendingOrder(enum.StrEnum):
    FIFO = "FIFO"  # oldest earned first
    EXPIRING_FIRST = "EXPIRING_FIRST"  # soonest expiry first; lots that never expire last


class Lot(msgspec.Struct, kw_only=True):
    """One credit's value. `created_at` is when the value was earned: a part split off by a hold
    keeps it, so spending order does not change when value is held and released."""

    id: str
    amount: Decimal  # as credited (or as split off)
    remaining: Decimal
    status: LotStatus
    created_at: datetime
    expires_at: datetime | None = None
    matures_at: datetime | None = None
    reference_id: str | None = None
    provisional: bool = False  # credited straight into HELD: VOID_HOLD may cancel it
    source_lot_id: str | None = None  # the lot a hold or release split this one from

    def expired_by(self, as_of: datetime) -> bool:
        return (
            self.expires_at is not None
            and self.expires_at <= as_of
            and self.status in OPEN_STATUSES
            and self.remaining > 0
        )

    def matured_by(self, as_of: datetime) -> bool:
        return self.status == LotStatus.DEFERRED and self.matures_at is not None and self.matures_at <= as_of


class Take(msgspec.Struct, kw_only=True, frozen=True):
    """Value that one operation moved out of (or back into) one lot."""

    lot_id: str
    amount: Decimal


class Settled(msgspec.Struct, kw_only=True, frozen=True):
    """A lot the clock changed: EXPIRED (its remaining value leaves for breakage) or MATURED
    (DEFERRED -> AVAILABLE). `from_status` is the bucket the value left."""

    lot_id: str
    kind: str  # EXPIRED | MATURED
    amount: Decimal
    from_status: LotStatus
    reference_id: str | None = None


class LotShortfall(Exception):
    """Spendable lots hold less than an operation needs; `available` is what they hold."""

    def __init__(self, needed: Decimal, available: Decimal) -> None:
        super().__init__(f"lots hold {available}, {needed} needed")
        self.needed, self.available = needed, available


class LotFilter(msgspec.Struct, kw_only=True, frozen=True):
    """Which lots an operation may use (the balance operations' `lot_ids`, `earned_from`,
    `earned_to` and `reference_id`); empty means any."""

    lot_ids: frozenset[str] | None = None
    earned_from: datetime | None = None
    earned_to: datetime | None = None
    reference_id: str | None = None
    provisional_only: bool = False

    def admits(self, lot: Lot) -> bool:
        if self.lot_ids is not None and lot.id not in self.lot_ids:
            return False
        if self.earned_from is not None and lot.created_at < self.earned_from:
            return False
        if self.earned_to is not None and lot.created_at > self.earned_to:
            return False
        if self.reference_id is not None and lot.reference_id != self.reference_id:
            return False
        return not (self.provisional_only and not lot.provisional)


ANY = LotFilter()


def spending_key(order: SpendingOrder | str) -> Callable[[Lot], tuple]:
    """The sort key of a spending order: FIFO by earned time; EXPIRING_FIRST by expiry (lots that
    never expire last), then earned time. The id breaks ties, so the order is total."""
    if order == SpendingOrder.EXPIRING_FIRST:
        return lambda lot: (lot.expires_at is None, lot.expires_at or lot.created_at, lot.created_at, lot.id)
    return lambda lot: (lot.created_at, lot.id)


class LotPile:
    """One holder's lots of one asset and the operations on them. Operations change the lots in
    place (new lots are appended) and return what moved; `changed` names every lot touched."""

    def __init__(self, lots: Iterable[Lot], order: SpendingOrder | str, new_id: Callable[[], str]) -> None:
        self.lots = lots if isinstance(lots, list) else list(lots)  # a list given is changed in place
        self.order = SpendingOrder(order)
        self.new_id = new_id
        self.changed: set[str] = set()

    # --- reading ------------------------------------------------------------------------------

    def spendable(self, status: LotStatus, as_of: datetime, only: LotFilter = ANY) -> list[Lot]:
        """Lots of `status` with value left, not expired by `as_of`, in spending order."""
        found = [
            lot
            for lot in self.lots
            if lot.status == status and lot.remaining > 0 and not lot.expired_by(as_of) and only.admits(lot)
        ]
        return sorted(found, key=spending_key(self.order))

    def total(self, status: LotStatus, as_of: datetime, only: LotFilter = ANY) -> Decimal:
        return sum((lot.remaining for lot in self.spendable(status, as_of, only)), ZERO)

    # --- value in -----------------------------------------------------------------------------

    def credit(
        self,
        amount: Decimal,
        *,
        as_of: datetime,
        status: LotStatus = LotStatus.AVAILABLE,
        expires_at: datetime | None = None,
        matures_at: datetime | None = None,
        reference_id: str | None = None,
        overdraft: Decimal = ZERO,
    ) -> Lot:
        """A new lot of `amount` earned at `as_of`: DEFERRED when it matures later, else in
        `status`. Value into a bucket that is `overdraft` below zero repays that first."""
        if matures_at is not None and matures_at > as_of:
            status = LotStatus.DEFERRED
        remaining = amount - min(amount, max(overdraft, ZERO)) if status != LotStatus.DEFERRED else amount
        lot = Lot(
            id=self.new_id(),
            amount=amount,
            remaining=remaining,
            status=status if remaining > 0 else LotStatus.CONSUMED,
            created_at=as_of,
            expires_at=expires_at,
            matures_at=matures_at,
            reference_id=reference_id if status == LotStatus.HELD else None,
            provisional=status == LotStatus.HELD,
        )
        self.lots.append(lot)
        self.changed.add(lot.id)
        return lot

    def restore(self, takes: list[Take], amount: Decimal) -> list[Take]:
        """Give back up to `amount` of what `takes` consumed, the most recent take first (LIFO):
        each lot regains value and is AVAILABLE again. Returns what went back where."""
        by_id = {lot.id: lot for lot in self.lots}
        back: list[Take] = []
        left = amount
        for take in reversed(takes):
            if left <= 0:
                break
            lot = by_id[take.lot_id]
            part = min(take.amount, left)
            lot.remaining += part
            lot.status = LotStatus.AVAILABLE
            self.changed.add(lot.id)
            back.append(Take(lot_id=lot.id, amount=part))
            left -= part
        return back

    # --- value out ----------------------------------------------------------------------------

    def take(
        self,
        amount: Decimal,
        *,
        as_of: datetime,
        status: LotStatus = LotStatus.AVAILABLE,
        only: LotFilter = ANY,
        allow_short: bool = False,
    ) -> list[Take]:
        """Consume `amount` from spendable lots in spending order. Short of value, raise
        `LotShortfall`, or with `allow_short` take all there is (the rest is an overdraft)."""
        lots = self.spendable(status, as_of, only)
        available = sum((lot.remaining for lot in lots), ZERO)
        if available < amount and not allow_short:
            raise LotShortfall(amount, available)
        taken: list[Take] = []
        left = amount
        for lot in lots:
            if left <= 0:
                break
            part = min(lot.remaining, left)
            lot.remaining -= part
            if lot.remaining == 0:
                lot.status = LotStatus.CONSUMED
            self.changed.add(lot.id)
            taken.append(Take(lot_id=lot.id, amount=part))
            left -= part
        return taken

    def move(
        self,
        amount: Decimal | None,
        *,
        as_of: datetime,
        source: LotStatus,
        target: LotStatus,
        only: LotFilter = ANY,
        reference_id: str | None = None,
        overdraft: Decimal = ZERO,
    ) -> list[Take]:
        """Move `amount` (None: all the filter admits) from `source` lots to `target` in spending
        order, splitting the last lot when only part of it moves. A hold stamps `reference_id` on
        what it moves; a release clears it. Value into a `target` that is `overdraft` below zero
        repays that first, the parts moved first repaying first. Returns the moved parts (the ids
        of the lots now in `target`)."""
        lots = self.spendable(source, as_of, only)
        available = sum((lot.remaining for lot in lots), ZERO)
        wanted = available if amount is None else amount
        if available < wanted:
            raise LotShortfall(wanted, available)
        moved: list[Take] = []
        left = wanted
        for lot in lots:
            if left <= 0:
                break
            part = min(lot.remaining, left)
            moved.append(self._move_part(lot, part, target, reference_id))
            left -= part
        self._repay(moved, overdraft)
        return moved

    def _repay(self, arrived: list[Take], overdraft: Decimal) -> None:
        """Lower the lots that `arrived` in an overdrawn bucket by the overdraft they repay."""
        if overdraft <= 0:
            return
        by_id = {lot.id: lot for lot in self.lots}
        for take in arrived:
            if overdraft <= 0:
                break
            lot = by_id[take.lot_id]
            repaid = min(take.amount, overdraft)
            lot.remaining -= repaid
            overdraft -= repaid
            if lot.remaining == 0:
                lot.status = LotStatus.CONSUMED

    def _move_part(self, lot: Lot, part: Decimal, target: LotStatus, reference_id: str | None) -> Take:
        stamp = reference_id if target == LotStatus.HELD else None
        if part == lot.remaining:  # the whole lot changes bucket
            lot.status, lot.reference_id = target, stamp
            lot.provisional = False
            self.changed.add(lot.id)
            return Take(lot_id=lot.id, amount=part)
        lot.remaining -= part
        self.changed.add(lot.id)
        split = msgspec.structs.replace(
            lot,
            id=self.new_id(),
            amount=part,
            remaining=part,
            status=target,
            reference_id=stamp,
            provisional=False,
            source_lot_id=lot.id,
        )
        self.lots.append(split)
        self.changed.add(split.id)
        return Take(lot_id=split.id, amount=part)

    # --- the clock ----------------------------------------------------------------------------

    def settle(self, as_of: datetime, overdraft: Decimal = ZERO) -> list[Settled]:
        """Expire and mature what is due at `as_of`: an expired lot's remaining value leaves (for
        breakage) and the lot is EXPIRED; a DEFERRED lot whose maturity has come becomes
        AVAILABLE, repaying an AVAILABLE `overdraft` first. Expiry is judged first, so a lot due
        to do both expires."""
        settled: list[Settled] = []
        for lot in sorted(self.lots, key=lambda lot: (lot.expires_at or lot.created_at, lot.id)):
            if lot.expired_by(as_of):
                settled.append(
                    Settled(
                        lot_id=lot.id,
                        kind="EXPIRED",
                        amount=lot.remaining,
                        from_status=lot.status,
                        reference_id=lot.reference_id,
                    )
                )
                lot.remaining, lot.status = ZERO, LotStatus.EXPIRED
                self.changed.add(lot.id)
        for lot in sorted(self.lots, key=lambda lot: (lot.matures_at or lot.created_at, lot.id)):
            if lot.matured_by(as_of):
                settled.append(Settled(lot_id=lot.id, kind="MATURED", amount=lot.remaining, from_status=lot.status))
                repaid = min(lot.remaining, max(overdraft, ZERO))
                overdraft -= repaid
                lot.remaining -= repaid
                lot.status = LotStatus.AVAILABLE if lot.remaining > 0 else LotStatus.CONSUMED
                self.changed.add(lot.id)
        return settled

    def due_at(self, as_of: datetime) -> bool:
        """Whether `settle(as_of)` would change anything."""
        return any(lot.expired_by(as_of) or lot.matured_by(as_of) for lot in self.lots)
