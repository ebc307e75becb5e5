"""Lots in test cases and the playground: the lots a state gives a LOT asset, and the lots, expired
and matured amounts a test case expects.

    lots, balances, holds = lots_from_input(state, bundle, as_of, balances, holds)
    compare_lots(diff, "", expect, entity, settled, orders)

A LOT asset's balances are the sums of its lots, so a state that gives lots derives the balances
(and the amounts held under each reference) from them. A state that gives only balances and
holds of a LOT asset gets one lot per bucket, earned at the evaluation time, and one provisional
HELD lot per reference (as a card authorisation credits it), so examples written without lots
behave as their numbers say.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.errors import EngineError
from engine.model.bundle import Bundle, Expectation, GroupExpectation, GroupInput, LotInput, StateInput
from engine.model.lots import Lot, LotStatus, spending_key
from engine.model.result import SettledLot
from engine.model.state import Balance, EntityState, GroupState

ZERO = Decimal(0)


class TestInputError(EngineError):
    """A test case's state cannot become engine state (a bad number, an unknown level, lots that
    do not add up)."""

    __test__ = False  # not a pytest class
    code = "invalid_test_input"


def lot_orders(bundle: Bundle) -> dict[str, str]:
    return {asset.symbol: asset.spending_order for asset in bundle.assets if asset.inventory_mode == "LOT"}


def lots_from_input(
    state: StateInput | GroupInput,
    bundle: Bundle,
    as_of: datetime,
    balances: dict[str, Balance],
    holds: dict[str, dict[str, Decimal]],
) -> dict[str, list[Lot]]:
    """The lots of the state's LOT assets; `balances` and `holds` are completed from them in place."""
    orders = lot_orders(bundle)
    strays = sorted(set(state.lots) - set(orders))
    if strays:
        raise TestInputError(f"lots are given for {strays[0]}, which is not a LOT asset")
    lots: dict[str, list[Lot]] = {}
    for symbol in orders:
        if symbol in state.lots:
            lots[symbol] = [
                _lot(item, f"{symbol}-{index + 1}", as_of, symbol) for index, item in enumerate(state.lots[symbol])
            ]
            _derive(symbol, lots[symbol], balances, holds)
        elif symbol in balances:
            lots[symbol] = _lots_of_balance(symbol, balances[symbol], holds.get(symbol, {}), as_of)
    return lots


def _lot(item: LotInput, lot_id: str, as_of: datetime, symbol: str) -> Lot:
    amount = _amount(item.amount, f"lot {lot_id} amount")
    remaining = _amount(item.remaining, f"lot {lot_id} remaining") if item.remaining is not None else amount
    if remaining <= 0 or remaining > amount:
        raise TestInputError(f"lot {lot_id}: remaining must be above 0 and at most the amount")
    return Lot(
        id=lot_id,
        amount=amount,
        remaining=remaining,
        status=LotStatus(item.status),
        created_at=item.created_at or as_of,
        expires_at=item.expires_at,
        matures_at=item.matures_at,
        reference_id=item.reference_id if item.status == "HELD" else None,
        provisional=item.provisional and item.status == "HELD",
    )


def _derive(symbol: str, lots: list[Lot], balances: dict[str, Balance], holds: dict[str, dict[str, Decimal]]) -> None:
    sums = {status: sum((lot.remaining for lot in lots if lot.status == status), ZERO) for status in LotStatus}
    derived = Balance(available=sums[LotStatus.AVAILABLE], held=sums[LotStatus.HELD], deferred=sums[LotStatus.DEFERRED])
    given = balances.get(symbol)
    if given is not None and given != derived:
        raise TestInputError(f"balance {symbol} differs from the sums of its lots; give the lots alone")
    balances[symbol] = derived
    by_reference: dict[str, Decimal] = {}
    for lot in lots:
        if lot.status == LotStatus.HELD and lot.reference_id is not None:
            by_reference[lot.reference_id] = by_reference.get(lot.reference_id, ZERO) + lot.remaining
    if by_reference:
        holds[symbol] = by_reference


def _lots_of_balance(symbol: str, balance: Balance, held: dict[str, Decimal], as_of: datetime) -> list[Lot]:
    lots: list[Lot] = []

    def add(amount: Decimal, status: LotStatus, reference: str | None = None) -> None:
        if amount > 0:
            lots.append(
                Lot(
                    id=f"{symbol}-{len(lots) + 1}",
                    amount=amount,
                    remaining=amount,
                    status=status,
                    created_at=as_of,
                    reference_id=reference,
                    provisional=reference is not None,
                )
            )

    add(balance.available, LotStatus.AVAILABLE)
    for reference, amount in sorted(held.items()):
        add(amount, LotStatus.HELD, reference)
    add(balance.held - sum(held.values(), ZERO), LotStatus.HELD)
    add(balance.deferred, LotStatus.DEFERRED)
    return lots


def compare_lots(
    diff: list[str],
    prefix: str,
    expect: Expectation | GroupExpectation,
    entity: EntityState | GroupState,
    settled: list[SettledLot],
    role: str,
    orders: dict[str, str],
) -> None:
    """The open lots, expired and matured amounts a test case expects, against the result."""
    for symbol, wanted in (expect.lots or {}).items():
        lots = sorted(entity.lots.get(symbol, []), key=spending_key(orders.get(symbol, "FIFO")))
        if len(lots) != len(wanted):
            diff.append(f"{prefix}lots.{symbol}: expected {len(wanted)} open lots, got {len(lots)}")
            continue
        for index, (expected, lot) in enumerate(zip(wanted, lots, strict=True)):
            label = f"{prefix}lots.{symbol}[{index}]"
            for field in ("remaining", "status", "expires_at", "reference_id"):
                value = getattr(expected, field)
                actual = getattr(lot, field)
                if value is not None and _normal(value) != _normal(actual):
                    diff.append(f"{label}.{field}: expected {value}, got {actual}")
    for kind, expected_sums in (("EXPIRED", expect.expired), ("MATURED", expect.matured)):
        if expected_sums is None:
            continue
        sums: dict[str, Decimal] = {}
        for done in settled:
            if done.role == role and done.kind == kind:
                sums[done.asset] = sums.get(done.asset, ZERO) + done.amount
        for symbol in sorted(set(expected_sums) | set(sums)):
            wanted_sum = _amount(expected_sums.get(symbol, 0), f"{kind.lower()} {symbol}")
            if wanted_sum != sums.get(symbol, ZERO):
                diff.append(f"{prefix}{kind.lower()}.{symbol}: expected {wanted_sum}, got {sums.get(symbol, ZERO)}")


def _normal(value: Any) -> Any:
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return value
    return value


def _amount(value: Any, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise TestInputError(f"{what}: {value!r} is not a number") from None
    if not number.is_finite():
        raise TestInputError(f"{what}: {value!r} is not a finite number")
    return number
