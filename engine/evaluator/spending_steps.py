"""Spending in test cases (A211): a journey's `redeem`, `reverse` and `transfer` steps, applied to
the participant (and the case's recipient) with the rules the server spends by.

    book = SpendingBook(bundle)
    outcome = book.apply(step, participant, recipient, at)   # new states, or the refusal's code

The catalog's rules are `engine.model.spending`'s (cost, window, stock, per-participant cap, what
a reversal may give back, a reward's status following its stock), as `engine.store.redemptions`
applies them; the value moves as storage moves it (`engine.store.ledger.spending`): AVAILABLE
only, never below zero (`insufficient_funds`), and on a LOT asset through `engine.model.lots`:
due lots settled first, lots taken in spending order, a reversal restoring what its redemption
took (last taken first) and expiring at once what comes back into a lot past its expiry, a
recipient getting a fresh lot earned now. A refusal carries the code the API answers with.
The book keeps the catalog's counts and the redemptions across the steps of one case.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import msgspec

from engine.errors import EngineError
from engine.evaluator.holdings import Holdings
from engine.model.amounts import AmountError, check_limit, parse_amount
from engine.model.bundle import Asset, Bundle, JourneyStep, RedeemStep, ReverseStep, TransferStep
from engine.model.lots import Lot, LotShortfall, LotStatus, Take, unrestored
from engine.model.result import SettledLot
from engine.model.spending import (
    CatalogItem,
    RedemptionState,
    redemption_cost,
    reversal_of,
    stock_status,
)
from engine.model.state import Balance, EntityState, GroupState

ZERO = Decimal(0)


class SpendingStepRefused(EngineError):
    """A spending step the server would refuse; `code` is the API's."""

    code = "spending_refused"


@dataclass
class Outcome:
    """What a spending step did: the states after it (unchanged when refused), the lots it
    settled, and the refusal's code and message."""

    participant: EntityState
    recipient: EntityState | None
    settled: list[SettledLot] = field(default_factory=list)
    error_code: str | None = None
    error: str | None = None

    @property
    def status(self) -> str:
        return "FAILED" if self.error_code else "COMPLETED"


@dataclass
class _Redemption:
    state: RedemptionState
    reward: str | None
    symbol: str
    takes: list[Take]
    restored: Decimal = ZERO


class _People:
    """The participant and recipient as `Holdings` reads them."""

    def __init__(self, participant: EntityState, recipient: EntityState | None) -> None:
        self.roles = {"participant": participant, "recipient": recipient}

    def person(self, role: str) -> EntityState | None:
        return self.roles.get(role)

    def named(self, role: str) -> EntityState:
        found = self.roles.get(role)
        if found is None:
            raise SpendingStepRefused("a transfer step needs the case's `recipient`", code="bad_request")
        return found

    def balance_holder(self, role: str | None) -> EntityState | None:
        return self.named(role) if role in self.roles else None

    def balance_holders(self) -> list[tuple[str, EntityState | GroupState]]:
        return [(role, person) for role, person in self.roles.items() if person is not None]


class SpendingBook:
    """The catalog and the redemptions of one case, across its steps."""

    def __init__(self, bundle: Bundle) -> None:
        self.assets: dict[str, Asset] = {asset.symbol: asset for asset in bundle.assets}
        self.orders = {a.symbol: a.spending_order for a in bundle.assets if a.inventory_mode == "LOT"}
        self.items = {reward.name: _item(reward) for reward in bundle.rewards}
        self.reward_assets = {reward.name: reward.asset_id for reward in bundle.rewards}
        self.redemptions: dict[str, _Redemption] = {}
        self.held: dict[str, int] = {}  # units of each reward the participant holds
        self.taken: dict[str, Lot] = {}  # lots redemptions took from, by id, as taken
        self._ids = itertools.count(1)

    def apply(
        self, step: JourneyStep, participant: EntityState, recipient: EntityState | None, at: datetime
    ) -> Outcome:
        """The step's redeem, reverse or transfer at `at`, on copies of the states."""
        people = _People(copy.deepcopy(participant), copy.deepcopy(recipient))
        holdings = Holdings(people, self.orders, as_of=at, new_id=self._new_lot_id)
        try:
            holdings.settle()
            if step.redeem is not None:
                self._redeem(step.redeem, people, holdings, at)
            elif step.reverse is not None:
                self._reverse(step.reverse, people, holdings, at)
            elif step.transfer is not None:
                self._transfer(step.transfer, people, holdings, at)
        except EngineError as exc:  # the catalog's, the amounts' and this book's refusals
            return Outcome(participant, recipient, error_code=exc.code, error=exc.message)
        holdings.prune()
        return Outcome(people.named("participant"), people.person("recipient"), settled=holdings.settled)

    # --- the three kinds ----------------------------------------------------------------------

    def _redeem(self, step: RedeemStep, people: _People, holdings: Holdings, at: datetime) -> None:
        person = people.named("participant")
        _require_active(person, "a redemption")
        if step.reward is None:
            symbol = self._asset(step.asset_id).symbol
            amount = self._amount(step.amount, symbol)
            state, item = RedemptionState(amount=amount), None
        else:
            item = self._reward(step.reward)
            symbol = self.reward_assets[step.reward]
            value = None if step.amount is None else self._amount(step.amount, symbol)
            cost = redemption_cost(
                item, quantity=step.quantity, amount=value, now=at, participant_units=self.held.get(item.name, 0)
            )
            amount = cost.amount
            state = RedemptionState(
                amount=amount, redemption_type=item.redemption_type, quantity=cost.quantity, unit_cost=cost.unit_cost
            )
        self._check_limit(amount, symbol)
        takes = self._spend(person, holdings, symbol, amount, at)
        if item is not None:
            item.redeemed_count += state.quantity or 0
            item.status = stock_status(item.status, redeemed_count=item.redeemed_count, max_total=item.max_total)
            self.held[item.name] = self.held.get(item.name, 0) + (state.quantity or 0)
        label = step.label or f"redemption {len(self.redemptions) + 1}"
        self.redemptions[label] = _Redemption(state, item.name if item else None, symbol, takes)

    def _reverse(self, step: ReverseStep, people: _People, holdings: Holdings, at: datetime) -> None:
        found = self.redemptions.get(step.redemption)
        if found is None:
            raise SpendingStepRefused(f"no earlier step redeemed {step.redemption!r}", code="not_found")
        amount = None if step.amount is None else self._amount(step.amount, found.symbol)
        cost = reversal_of(found.state, amount=amount, quantity=step.quantity)
        person = people.named("participant")
        balance = _balance(person, found.symbol)
        if found.symbol in self.orders:
            pile = holdings.pile("participant", found.symbol)
            left = unrestored(found.takes, found.restored)
            present = {lot.id for lot in pile.lots}
            for take in left:  # a lot emptied and dropped from the state since: back, empty
                if take.lot_id not in present:
                    lot = self.taken[take.lot_id]
                    pile.lots.append(msgspec.structs.replace(lot, remaining=ZERO, status=LotStatus.CONSUMED))
                    present.add(take.lot_id)
            back = pile.restore(left, cost.amount, overdraft=-min(balance.available, ZERO))
            found.restored += sum((take.amount for take in back), ZERO)
        balance.available += cost.amount
        holdings.settle()  # value restored into a lot past its expiry expires now
        found.state.reversed_amount += cost.amount
        found.state.reversed_quantity += cost.quantity or 0
        if found.reward is not None:
            item = self.items[found.reward]
            units = cost.quantity or 0
            item.redeemed_count -= units
            item.status = stock_status(item.status, redeemed_count=item.redeemed_count, max_total=item.max_total)
            self.held[found.reward] -= units

    def _transfer(self, step: TransferStep, people: _People, holdings: Holdings, at: datetime) -> None:
        payer, payee = people.named("participant"), people.named("recipient")
        for person in (payer, payee):
            _require_active(person, "a transfer")
        symbol = self._asset(step.asset_id).symbol
        amount = self._amount(step.amount, symbol)
        self._check_limit(amount, symbol)
        self._spend(payer, holdings, symbol, amount, at)
        balance = _balance(payee, symbol)
        if symbol in self.orders:  # a fresh lot earned now, without the payer's expiry (D34)
            holdings.pile("recipient", symbol).credit(amount, as_of=at, overdraft=-min(balance.available, ZERO))
        balance.available += amount

    # --- parts ------------------------------------------------------------------------------

    def _spend(self, person: EntityState, holdings: Holdings, symbol: str, amount: Decimal, at: datetime) -> list[Take]:
        """Take `amount` from the participant's AVAILABLE value (its lots in spending order)."""
        balance = _balance(person, symbol)
        takes: list[Take] = []
        if symbol in self.orders:
            pile = holdings.pile("participant", symbol)
            for lot in pile.lots:  # events name their new lots alike; a reversal finds lots by id
                if not lot.id.startswith("case-"):
                    lot.id = self._new_lot_id()
            try:
                takes = pile.take(amount, as_of=at, status=LotStatus.AVAILABLE)
            except LotShortfall as exc:
                raise _insufficient(symbol, exc.available, amount) from exc
            by_id = {lot.id: lot for lot in pile.lots}
            self.taken.update({take.lot_id: copy.deepcopy(by_id[take.lot_id]) for take in takes})
        elif balance.available < amount:
            raise _insufficient(symbol, balance.available, amount)
        balance.available -= amount
        return takes

    def _reward(self, name: str) -> CatalogItem:
        item = self.items.get(name)
        if item is None:
            raise SpendingStepRefused(f"reward {name!r} not found", code="not_found")
        return item

    def _asset(self, symbol: str | None) -> Asset:
        asset = self.assets.get(symbol or "")
        if asset is None:
            raise SpendingStepRefused(f"asset {symbol!r} not found", code="not_found")
        return asset

    def _amount(self, value: object, symbol: str) -> Decimal:
        try:
            return parse_amount(value, scale=self.assets[symbol].scale)
        except AmountError as exc:
            raise SpendingStepRefused(f"{exc.message} ({symbol})", code=exc.code) from exc

    def _check_limit(self, amount: Decimal, symbol: str) -> None:
        limit = self.assets[symbol].max_transaction_amount
        try:
            check_limit(amount, None if limit is None else Decimal(limit))
        except AmountError as exc:
            raise SpendingStepRefused(f"{exc.message} ({symbol})", code=exc.code) from exc

    def _new_lot_id(self) -> str:
        return f"case-{next(self._ids)}"


def _item(reward) -> CatalogItem:
    return CatalogItem(
        redemption_type=reward.redemption_type,
        unit_cost=Decimal(reward.unit_cost),
        status=reward.status,
        max_total=reward.max_total,
        max_per_participant=reward.max_per_participant,
        available_from=reward.available_from,
        available_until=reward.available_until,
        name=reward.name,
    )


def _require_active(person: EntityState, action: str) -> None:
    if person.status != "ACTIVE":
        who = f"participant {person.external_id}" if person.external_id else "the participant"
        raise SpendingStepRefused(f"{who} is {person.status}; {action} needs ACTIVE", code="participant_inactive")


def _insufficient(symbol: str, available: Decimal, amount: Decimal) -> SpendingStepRefused:
    return SpendingStepRefused(
        f"insufficient AVAILABLE balance of {symbol}: {available} available, {amount} needed",
        code="insufficient_funds",
    )


def _balance(person: EntityState, symbol: str) -> Balance:
    return person.balances.setdefault(symbol, Balance())
