"""Spending, pure: what a catalog redemption costs and whether the catalog allows it, how a
reward's status follows its stock, and how much of a redemption a reversal may give back.
Storage applies these rules under its locks (`engine/store/redemptions.py`, `engine/store/rewards.py`).

    item = CatalogItem(redemption_type="UNIT_BASED", unit_cost=Decimal(250), max_total=10, redeemed_count=9)
    redemption_cost(item, quantity=1, amount=None, now=now, participant_units=0)
    # Cost(amount=Decimal('250'), quantity=1, unit_cost=Decimal('250'))
    stock_status("ACTIVE", redeemed_count=10, max_total=10)       # 'OUT_OF_STOCK'
    reversal_of(state, amount=None, quantity=None)                 # the whole rest

Refusals raise `SpendingRefused` with a stable code: `reward_not_active`, `reward_not_available`,
`out_of_stock`, `redemption_limit_exceeded`, `redemption_fully_reversed` and
`reversal_exceeds_redemption` (the catalog's or the redemption's state forbids it), `bad_request`
(the request does not fit the reward's type; `details["field"]` names the field).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

import msgspec

from engine.errors import EngineError

ZERO = Decimal(0)
UNIT_BASED, AMOUNT_BASED = "UNIT_BASED", "AMOUNT_BASED"
REWARD_STATUSES = ("DRAFT", "ACTIVE", "OUT_OF_STOCK", "ARCHIVED")
SETTABLE_STATUSES = ("DRAFT", "ACTIVE", "ARCHIVED")  # OUT_OF_STOCK follows the stock
COMPLETED, PARTIALLY_REVERSED, FULLY_REVERSED = "COMPLETED", "PARTIALLY_REVERSED", "FULLY_REVERSED"
# Refusals that clash with the stored state (409 at the API); the others are the request's fault.
STATE_CODES = frozenset(
    {
        "reward_not_active",
        "reward_not_available",
        "out_of_stock",
        "redemption_limit_exceeded",
        "redemption_fully_reversed",
        "reversal_exceeds_redemption",
    }
)


class SpendingRefused(EngineError):
    """A redemption or reversal the catalog's rules refuse."""

    code = "spending_refused"


class CatalogItem(msgspec.Struct, kw_only=True):
    """A reward as the rules of redemption see it."""

    redemption_type: str  # UNIT_BASED | AMOUNT_BASED
    unit_cost: Decimal  # per unit; the minimum amount of an AMOUNT_BASED redemption
    status: str = "ACTIVE"
    max_total: int | None = None  # UNIT_BASED: units the catalog holds in all
    max_per_participant: int | None = None  # UNIT_BASED: units one participant may hold
    available_from: datetime | None = None
    available_until: datetime | None = None
    redeemed_count: int = 0  # units redeemed and not reversed
    name: str = ""


class Cost(NamedTuple):
    """What a redemption takes (or a reversal gives back): an amount, and units of a catalog item
    (None for a raw redemption)."""

    amount: Decimal
    quantity: int | None
    unit_cost: Decimal | None


class RedemptionState(msgspec.Struct, kw_only=True):
    """A stored redemption as a reversal sees it; `redemption_type` is None for a raw one."""

    amount: Decimal
    redemption_type: str | None = None
    quantity: int | None = None
    unit_cost: Decimal | None = None
    reversed_amount: Decimal = ZERO
    reversed_quantity: int = 0


def refused(message: str, code: str, **details: object) -> SpendingRefused:
    return SpendingRefused(message, code=code, **details)


def bad_field(field: str, message: str) -> SpendingRefused:
    return SpendingRefused(message, code="bad_request", field=field)


def redemption_cost(
    item: CatalogItem, *, quantity: int | None, amount: Decimal | None, now: datetime, participant_units: int
) -> Cost:
    """The cost of redeeming `item` at `now`: `quantity` units of a UNIT_BASED item (default 1),
    or `amount` (at least the unit cost) of an AMOUNT_BASED one, which counts as one unit.
    `participant_units` is what the participant already holds of it (redeemed, not reversed)."""
    check_available(item, now)
    if item.redemption_type == AMOUNT_BASED:
        if quantity is not None:
            raise bad_field("quantity", f"reward {item.name!r} is AMOUNT_BASED: give an amount, not a quantity")
        if amount is None:
            raise bad_field("amount", f"reward {item.name!r} is AMOUNT_BASED: an amount is required")
        if amount < item.unit_cost:
            raise bad_field("amount", f"amount {amount} is below the reward's minimum of {item.unit_cost}")
        return Cost(amount, 1, item.unit_cost)
    if amount is not None:
        raise bad_field("amount", f"reward {item.name!r} is UNIT_BASED: give a quantity, not an amount")
    units = 1 if quantity is None else quantity
    if units < 1:
        raise bad_field("quantity", "quantity must be at least 1")
    check_stock(item, units, participant_units)
    return Cost(item.unit_cost * units, units, item.unit_cost)


def check_available(item: CatalogItem, now: datetime) -> None:
    """ACTIVE (or OUT_OF_STOCK, which `check_stock` words) and inside its window, half-open."""
    if item.status not in ("ACTIVE", "OUT_OF_STOCK"):
        raise refused(f"reward {item.name!r} is {item.status}", "reward_not_active", status=item.status)
    if item.available_from is not None and now < item.available_from:
        raise refused(
            f"reward {item.name!r} is available from {item.available_from.isoformat()}", "reward_not_available"
        )
    if item.available_until is not None and now >= item.available_until:
        raise refused(
            f"reward {item.name!r} was available until {item.available_until.isoformat()}", "reward_not_available"
        )


def check_stock(item: CatalogItem, units: int, participant_units: int) -> None:
    if item.max_total is not None and item.redeemed_count + units > item.max_total:
        left = max(item.max_total - item.redeemed_count, 0)
        raise refused(f"reward {item.name!r} has {left} unit(s) left, {units} asked", "out_of_stock", available=left)
    if item.max_per_participant is not None and participant_units + units > item.max_per_participant:
        raise refused(
            f"reward {item.name!r} allows {item.max_per_participant} unit(s) per participant; "
            f"this one holds {participant_units} and asked {units}",
            "redemption_limit_exceeded",
            held=participant_units,
        )


def stock_status(status: str, *, redeemed_count: int, max_total: int | None) -> str:
    """ACTIVE becomes OUT_OF_STOCK when the redeemed units reach `max_total`, and back when a
    reversal (or a larger `max_total`) frees a unit; DRAFT and ARCHIVED stay as they are."""
    if status not in ("ACTIVE", "OUT_OF_STOCK"):
        return status
    exhausted = max_total is not None and redeemed_count >= max_total
    return "OUT_OF_STOCK" if exhausted else "ACTIVE"


def reversal_of(state: RedemptionState, *, amount: Decimal | None, quantity: int | None) -> Cost:
    """What a reversal gives back: `quantity` units of a UNIT_BASED redemption at its unit cost,
    `amount` of a raw or AMOUNT_BASED one, or (neither given) all that is left. Reversals add up
    to at most the redemption; an AMOUNT_BASED redemption's unit comes back with its last part."""
    left = state.amount - state.reversed_amount
    if left <= 0:
        raise refused("the redemption is fully reversed", "redemption_fully_reversed")
    if state.redemption_type == UNIT_BASED:
        if amount is not None:
            raise bad_field("amount", "a UNIT_BASED redemption is reversed by quantity")
        units_left = (state.quantity or 0) - state.reversed_quantity
        units = units_left if quantity is None else quantity
        if units < 1:
            raise bad_field("quantity", "quantity must be at least 1")
        if units > units_left:
            raise refused(f"{units} unit(s) asked, {units_left} left to reverse", "reversal_exceeds_redemption")
        unit_cost = state.unit_cost or ZERO
        return Cost(left if units == units_left else unit_cost * units, units, unit_cost)
    if quantity is not None:
        raise bad_field("quantity", "only a UNIT_BASED redemption is reversed by quantity")
    value = left if amount is None else amount
    if value > left:
        raise refused(f"{value} asked, {left} left to reverse", "reversal_exceeds_redemption", left=str(left))
    if state.redemption_type == AMOUNT_BASED:
        return Cost(value, 1 if value == left else 0, state.unit_cost)
    return Cost(value, None, None)


def redemption_status(amount: Decimal, reversed_amount: Decimal) -> str:
    if reversed_amount <= 0:
        return COMPLETED
    return FULLY_REVERSED if reversed_amount >= amount else PARTIALLY_REVERSED


def reward_problems(
    *,
    redemption_type: str,
    unit_cost: Decimal,
    max_total: int | None,
    max_per_participant: int | None,
    available_from: datetime | None,
    available_until: datetime | None,
) -> list[tuple[str, str]]:
    """(field, message) of every way a reward's fields contradict each other; the API and bundle
    checks share them."""
    problems: list[tuple[str, str]] = []
    if unit_cost <= 0:
        problems.append(("unit_cost", "unit_cost must be positive"))
    if redemption_type == AMOUNT_BASED:
        for field, value in (("max_total", max_total), ("max_per_participant", max_per_participant)):
            if value is not None:
                problems.append((field, f"{field} applies to UNIT_BASED rewards only"))
    if available_from is not None and available_until is not None and available_until <= available_from:
        problems.append(("available_until", "available_until must be after available_from"))
    return problems
