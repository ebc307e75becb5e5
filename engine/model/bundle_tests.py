"""A bundle's test cases (`tests:`): the state before, the event or the steps through time, and
what is expected after. `engine.evaluator.cases` runs them; `engine.model.bundle` holds them.

A case gives one event, or `steps` that run a participant through time (A136): each step moves the
clock and then evaluates an event, redeems (a catalog reward by name, or a raw amount), reverses an
earlier redemption, or transfers to the case's recipient, with the rules the server spends by
(`engine.model.spending`, `engine.model.lots`; A211).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from engine.limits import INTEGER_COLUMN_MAX
from engine.model.structs import Description, Name, Quantity, Struct

Units = Annotated[int, msgspec.Meta(ge=1, le=INTEGER_COLUMN_MAX)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


# --- test cases ----------------------------------------------------------------------------------


class LotInput(Struct, kw_only=True):
    """A lot of a LOT asset as a test case or the playground gives it; `remaining` defaults to
    `amount`, `created_at` (when it was earned) to the event's receive time."""

    amount: Quantity
    remaining: Quantity | None = None
    status: Literal["DEFERRED", "AVAILABLE", "HELD"] = "AVAILABLE"
    created_at: datetime | None = None
    expires_at: datetime | None = None
    matures_at: datetime | None = None
    reference_id: str | None = None
    provisional: bool = False  # credited straight into HELD (VOID_HOLD may cancel it)


class LotExpectation(Struct, kw_only=True):
    """An open lot a test case expects after the event (in spending order); given fields only."""

    remaining: Quantity | None = None
    status: Literal["DEFERRED", "AVAILABLE", "HELD"] | None = None
    expires_at: datetime | None = None
    reference_id: str | None = None


class CounterInput(Struct, kw_only=True):
    """A counter with its reset schedule, as a test case writes it: `{value: 1800, reset_after:
    month, last_reset_at: 2026-03-01T00:00:00Z}`."""

    value: int | float | str
    reset_after: str | None = None
    last_reset_at: datetime | None = None


class StateInput(Struct, kw_only=True):
    """A participant (or recipient) as a test case or the playground writes it: plain numbers for
    counters (or `CounterInput` for one with a reset schedule) and balances, a level key per tier."""

    external_id: str | None = None
    status: Literal["ACTIVE", "SUSPENDED", "CLOSED"] = "ACTIVE"
    tags: list[str] = msgspec.field(default_factory=list)
    counters: dict[str, int | float | str | CounterInput] = msgspec.field(default_factory=dict)
    attributes: dict[str, str] = msgspec.field(default_factory=dict)
    tiers: dict[str, str] = msgspec.field(default_factory=dict)
    balances: dict[str, int | float | str | dict[str, int | float | str]] = msgspec.field(default_factory=dict)
    # amounts held under a reference (an earlier authorisation): asset symbol -> reference -> amount
    holds: dict[str, dict[str, Quantity]] = msgspec.field(default_factory=dict)
    # lots of LOT assets, by asset symbol; their sums are the asset's balances
    lots: dict[str, list[LotInput]] = msgspec.field(default_factory=dict)


class ProgramStateInput(Struct, kw_only=True):
    tags: list[str] = msgspec.field(default_factory=list)
    counters: dict[str, int | float | str] = msgspec.field(default_factory=dict)
    attributes: dict[str, str] = msgspec.field(default_factory=dict)
    wallet: dict[str, int | float | str] = msgspec.field(default_factory=dict)


class GroupInput(Struct, kw_only=True):
    """The group the case's event names (`group` in CEL, A255): `id` defaults to the event's
    `group_id`; balances are the group's in the program, plain numbers or `{available, held,
    deferred}`, and on LOT assets its lots, as a participant's (A263)."""

    id: str | None = None
    name: str = ""
    status: Literal["ACTIVE", "ARCHIVED"] = "ACTIVE"
    tags: list[str] = msgspec.field(default_factory=list)
    counters: dict[str, int | float | str | CounterInput] = msgspec.field(default_factory=dict)
    attributes: dict[str, str] = msgspec.field(default_factory=dict)
    tiers: dict[str, str] = msgspec.field(default_factory=dict)  # a level key per tier (A258)
    balances: dict[str, int | float | str | dict[str, int | float | str]] = msgspec.field(default_factory=dict)
    holds: dict[str, dict[str, Quantity]] = msgspec.field(default_factory=dict)
    lots: dict[str, list[LotInput]] = msgspec.field(default_factory=dict)


class GroupExpectation(Struct, kw_only=True):
    """The group after the event; given fields only. `credits` / `debits` sum the applied actions
    on the group by asset symbol."""

    credits: dict[str, Quantity] | None = None
    debits: dict[str, Quantity] | None = None
    tags: list[str] | None = None
    counters: dict[str, Quantity] | None = None
    attributes: dict[str, str] | None = None
    tiers: dict[str, str | None] | None = None  # level key; null: no level
    balances: dict[str, Quantity | dict[str, Quantity]] | None = None
    lots: dict[str, list[LotExpectation]] | None = None  # open lots by asset symbol, in spending order
    expired: dict[str, Quantity] | None = None
    matured: dict[str, Quantity] | None = None


class Expectation(Struct, kw_only=True):
    """What a test case expects. Every field is optional; only the given ones are compared.
    Amount maps are asset symbol -> decimal string (sums over the event's applied actions)."""

    status: Literal["COMPLETED", "FAILED"] | None = None
    error_code: str | None = None
    matched: list[str] | None = None  # exactly these rules MATCHED, in order
    statuses: dict[str, str] | None = None  # rule name -> RuleStatus
    credits: dict[str, Quantity] | None = None
    debits: dict[str, Quantity] | None = None
    tags: list[str] | None = None  # the participant's tags after the event
    counters: dict[str, Quantity] | None = None
    attributes: dict[str, str] | None = None
    tiers: dict[str, str | None] | None = None  # level key; null: no level
    balances: dict[str, Quantity | dict[str, Quantity]] | None = None
    lots: dict[str, list[LotExpectation]] | None = None  # open lots by asset symbol, in spending order
    expired: dict[str, Quantity] | None = None  # value the evaluation time expired, by asset symbol
    matured: dict[str, Quantity] | None = None  # DEFERRED value the evaluation time made AVAILABLE
    recipient: Expectation | None = None
    group: GroupExpectation | None = None  # the group the event names, after it (A255)


class RedeemStep(Struct, kw_only=True):
    """A redemption: a catalog reward by `reward` name (`quantity` units of a UNIT_BASED one, 1 by
    default; `amount` of an AMOUNT_BASED one), or without `reward` a raw `amount` of `asset_id`.
    `label` names it for a later `reverse`."""

    reward: Name | None = None
    asset_id: str | None = None
    amount: Quantity | None = None
    quantity: Units | None = None
    label: Label | None = None
    description: Description | None = None


class ReverseStep(Struct, kw_only=True):
    """A reversal of the redemption an earlier step labelled `redemption`: `quantity` units of a
    UNIT_BASED one, `amount` of another, or (neither) all that is left."""

    redemption: Label
    amount: Quantity | None = None
    quantity: Units | None = None
    reason: Description | None = None


class TransferStep(Struct, kw_only=True):
    """The participant gives `amount` of `asset_id` to the case's `recipient`."""

    asset_id: str
    amount: Quantity
    description: Description | None = None


SPENDING_KINDS = ("redeem", "reverse", "transfer")


class JourneyStep(Struct, kw_only=True):
    """A step of a case that runs a participant through time (A136): the clock moves to `at`
    (period ends, drops, expiries and inactivity due by then are applied), then the step does at
    most one thing there: evaluate its `event`, `redeem`, `reverse` or `transfer` (A211). Its
    expectations are checked after; a refused spending step is `status: FAILED` with the API's
    `error_code` (`out_of_stock`, `insufficient_funds`, ...)."""

    at: datetime
    event: dict[str, Any] | None = None  # event_data
    redeem: RedeemStep | None = None
    reverse: ReverseStep | None = None
    transfer: TransferStep | None = None
    received_at: datetime | None = None  # default: at
    description: Description | None = None
    expect: Expectation = msgspec.field(default_factory=Expectation)

    def actions(self) -> list[str]:
        """What the step does besides moving the clock: `event` and the spending kinds given."""
        return [kind for kind in ("event", *SPENDING_KINDS) if getattr(self, kind) is not None]


class TestCase(Struct, kw_only=True):
    """One event against a given state, or (`steps`) a participant run through time (A136)."""

    name: Name
    event: dict[str, Any] | None = None  # event_data; a case gives `event` or `steps`
    description: Description | None = None
    event_timestamp: datetime | None = None  # default 2026-01-01T12:00:00Z
    received_at: datetime | None = None  # default: event_timestamp
    participant: StateInput = msgspec.field(default_factory=StateInput)
    recipient: StateInput | None = None
    program: ProgramStateInput = msgspec.field(default_factory=ProgramStateInput)
    group: GroupInput | None = None  # the group the event names (a case with one event only)
    budgets_consumed: dict[str, dict[str, Quantity]] = msgspec.field(default_factory=dict)  # rule -> asset -> amount
    # what the participant has consumed of `per: participant` budgets: rule -> asset -> amount
    participant_budgets_consumed: dict[str, dict[str, Quantity]] = msgspec.field(default_factory=dict)
    expect: Expectation = msgspec.field(default_factory=Expectation)
    starts_at: datetime | None = None  # with steps: when the given state holds (default: the first step's `at`)
    steps: Annotated[list[JourneyStep], msgspec.Meta(min_length=1, max_length=200)] | None = None
