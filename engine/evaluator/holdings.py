"""The working copy of the lots of LOT assets one event changes (D34), beside the balances.

    holdings = Holdings(working, {"MILES": "FIFO"}, as_of=received_at)
    holdings.settle()                           # expire and mature what is due at `as_of`
    holdings.pile("participant", "MILES")       # the lots a CREDIT, DEBIT, HOLD... moves

Lots are judged at the event's receive time (`as_of`, D16), as storage judges them when it posts
the event: an expired lot is never spent, a lot due to mature is spendable. `settle` runs before
the rules, so the balances the rules see already leave out what expired and count what matured;
what it did is reported (`SettledLot`) for test cases and the playground. The holders are the
participant, the recipient and the group the event names when its balances are known (A263).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from engine.model.lots import LotPile, LotStatus
from engine.model.result import SettledLot
from engine.model.state import Balance, EntityState, GroupState


class Holders(Protocol):
    """The holders of the working copy (`engine.evaluator.working.WorkingState`): the participant,
    the recipient, and the named group when its balances are known (A263)."""

    def balance_holder(self, role: str | None) -> EntityState | GroupState | None: ...

    def balance_holders(self) -> list[tuple[str, EntityState | GroupState]]: ...


_FIELD = {LotStatus.AVAILABLE: "available", LotStatus.HELD: "held", LotStatus.DEFERRED: "deferred"}


def bucket_field(status: LotStatus | str) -> str:
    """The `Balance` field of a lot status that is a bucket."""
    return _FIELD[LotStatus(status)]


class Holdings:
    """The event's piles of lots, by role and asset symbol, over the working copies' lots."""

    def __init__(
        self, working: Holders, orders: Mapping[str, str], *, as_of: datetime, new_id: Callable[[], str] | None = None
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
            holder = self.working.balance_holder(role)
            if holder is None:  # callers ask only for holders they have (`balance_holder`)
                raise LookupError(f"no balances of {role} are known here")
            lots = holder.lots.setdefault(symbol, [])
            self._piles[key] = LotPile(lots, self.orders[symbol], self._new_id)
        return self._piles[key]

    def settle(self) -> None:
        """Expire and mature, at `as_of`, the lots of the participant, the recipient and the group."""
        for role, entity in self.working.balance_holders():
            for symbol in sorted(set(entity.lots) & set(self.orders)):
                balance = holder_balance(entity, symbol)
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
        for _, entity in self.working.balance_holders():
            for lots in entity.lots.values():
                lots[:] = [
                    lot for lot in lots if lot.status in (LotStatus.DEFERRED, LotStatus.AVAILABLE, LotStatus.HELD)
                ]


def holder_balance(entity: EntityState | GroupState, symbol: str) -> Balance:
    """The holder's balance of `symbol`, added at zero when it has none (a group's balances are
    known wherever a holder is asked for them)."""
    if entity.balances is None:
        entity.balances = {}
    balance = entity.balances.get(symbol)
    if balance is None:
        balance = entity.balances[symbol] = Balance()
    return balance
