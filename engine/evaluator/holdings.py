"""The working copy of the lots of LOT assets one event changes (D34), beside the balances.

    holdings = Holdings(working, {"MILES": "FIFO"}, as_of=received_at)
    holdings.settle()                           # expire and mature what is due at `as_of`
    holdings.pile("participant", "MILES")       # the lots a CREDIT, DEBIT, HOLD... moves

Lots are judged at the event's receive time (`as_of`, D16), as storage judges them when it posts
the event: an expired lot is never spent, a lot due to mature is spendable. `settle` runs before
the rules, so the balances the rules see already leave out what expired and count what matured;
what it did is reported (`SettledLot`) for test cases and the playground.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from engine.model.lots import LotPile, LotStatus
from engine.model.result import SettledLot
from engine.model.state import Balance, EntityState


class People(Protocol):
    """The participant and recipient of the working copy (`engine.evaluator.working.WorkingState`)."""

    def person(self, role: str) -> EntityState | None: ...

    def named(self, role: str) -> EntityState: ...


ROLES = ("participant", "recipient")
_FIELD = {LotStatus.AVAILABLE: "available", LotStatus.HELD: "held", LotStatus.DEFERRED: "deferred"}


def bucket_field(status: LotStatus | str) -> str:
    """The `Balance` field of a lot status that is a bucket."""
    return _FIELD[LotStatus(status)]


class Holdings:
    """The event's piles of lots, by role and asset symbol, over the working copies' lots."""

    def __init__(
        self, working: People, orders: Mapping[str, str], *, as_of: datetime, new_id: Callable[[], str] | None = None
    ) -> None:
        self.working = working
        self.orders = orders  # LOT asset symbol -> spending order
        self.as_of = as_of
        self.settled: list[SettledLot] = []
        self._piles: dict[tuple[str, str], LotPile] = {}
        counter = itertools.count(1)
        # new lots' ids: unique within the event unless the caller keeps them unique for longer
        self._new_id = new_id or (lambda: f"new-{next(counter)}")

    def is_lot(self, symbol: str | None) -> bool:
        return symbol is not None and symbol in self.orders

    def pile(self, role: str, symbol: str) -> LotPile:
        key = (role, symbol)
        if key not in self._piles:
            lots = self.working.named(role).lots.setdefault(symbol, [])
            self._piles[key] = LotPile(lots, self.orders[symbol], self._new_id)
        return self._piles[key]

    def settle(self) -> None:
        """Expire and mature, at `as_of`, the lots of the participant and the recipient."""
        for role in ROLES:
            entity = self.working.person(role)
            if entity is None:
                continue
            for symbol in sorted(set(entity.lots) & set(self.orders)):
                balance = _balance(entity, symbol)
                for done in self.pile(role, symbol).settle(self.as_of, overdraft=-min(balance.available, Decimal(0))):
                    field = bucket_field(done.from_status)
                    setattr(balance, field, getattr(balance, field) - done.amount)
                    if done.kind == "MATURED":
                        balance.available += done.amount
                    self.settled.append(
                        SettledLot(role=role, asset=symbol, lot_id=done.lot_id, kind=done.kind, amount=done.amount)
                    )

    def prune(self) -> None:
        """Drop the lots that are CONSUMED or EXPIRED: the state after the event lists open lots."""
        for role in ROLES:
            entity = self.working.person(role)
            if entity is None:
                continue
            for lots in entity.lots.values():
                lots[:] = [
                    lot for lot in lots if lot.status in (LotStatus.DEFERRED, LotStatus.AVAILABLE, LotStatus.HELD)
                ]


def _balance(entity: EntityState, symbol: str) -> Balance:
    balance = entity.balances.get(symbol)
    if balance is None:
        balance = entity.balances[symbol] = Balance()
    return balance
