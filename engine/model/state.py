"""The state a rule sees and changes: participants (and recipients), the program, budgets.

These Structs are the contract between the pure engine, storage, the API and the playground:
storage loads them from the database, the engine works on copies of them, and the API and the
playground render them. Amounts are `Decimal` at the asset's scale; balances are keyed by asset
symbol.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec

from engine.model.calendar import calendar_reset_due, parse_period
from engine.model.durations import parse_duration
from engine.model.lots import Lot

ZERO = Decimal(0)


def counter_reset_due(reset_after: str | None, last_reset_at: datetime | None, now: datetime) -> bool:
    """Whether a counter's `reset_after` has elapsed since `last_reset_at` by `now` (A21): then its
    effective value is 0. The evaluator, storage and the API all judge the boundary here.

    >>> counter_reset_due("24h", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
    True
    """
    if not reset_after or last_reset_at is None:
        return False
    if parse_period(reset_after) is not None:  # a calendar period (D32): `month@Europe/London`
        return calendar_reset_due(reset_after, last_reset_at, now)
    return last_reset_at + parse_duration(reset_after) <= now


class CounterState(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A counter's stored value. The effective value is 0 once `reset_after` has elapsed since
    `last_reset_at` (lazy auto-reset, evaluated against the event's time)."""

    value: Decimal
    reset_after: str | None = None  # Go duration ("720h") or calendar period with its zone ("month@UTC")
    last_reset_at: datetime | None = None


class Balance(msgspec.Struct, kw_only=True):
    available: Decimal = ZERO
    held: Decimal = ZERO
    deferred: Decimal = ZERO


class TierState(msgspec.Struct, kw_only=True):
    level: str
    rank: int


class EntityState(msgspec.Struct, kw_only=True):
    """A participant as rules see it (D6): the event's participant, or its recipient (D17)."""

    id: str | None = None
    external_id: str | None = None
    status: str = "ACTIVE"  # ACTIVE | SUSPENDED | CLOSED
    tags: list[str] = msgspec.field(default_factory=list)
    counters: dict[str, CounterState] = msgspec.field(default_factory=dict)
    attributes: dict[str, str] = msgspec.field(default_factory=dict)
    tiers: dict[str, TierState] = msgspec.field(default_factory=dict)
    balances: dict[str, Balance] = msgspec.field(default_factory=dict)  # by asset symbol
    # HELD amounts that carry a reference_id (CREDIT to HELD, HOLD): asset symbol -> reference ->
    # amount still held. VOID_HOLD and RELEASE with a reference_id read and reduce them.
    holds: dict[str, dict[str, Decimal]] = msgspec.field(default_factory=dict)
    # Open lots of LOT assets by asset symbol (D34); their remaining amounts add up to the balances.
    lots: dict[str, list[Lot]] = msgspec.field(default_factory=dict)


class ProgramState(msgspec.Struct, kw_only=True):
    """Program-level state ("global logic") and the program wallet of PREFUNDED assets."""

    tags: list[str] = msgspec.field(default_factory=list)
    counters: dict[str, CounterState] = msgspec.field(default_factory=dict)
    attributes: dict[str, str] = msgspec.field(default_factory=dict)
    wallet: dict[str, Balance] = msgspec.field(default_factory=dict)  # by asset symbol


class GroupState(msgspec.Struct, kw_only=True):
    """The group an event names (`group_id` in its `event_data`), as rules read it: `group` in
    CEL. Actions whose `GROUP` target is this group change the evaluation's working copy (later
    rules see it, A255); storage applies them to its rows and ledger as before."""

    id: str
    name: str = ""
    status: str = "ACTIVE"  # ACTIVE | ARCHIVED
    tags: list[str] = msgspec.field(default_factory=list)
    counters: dict[str, CounterState] = msgspec.field(default_factory=dict)
    attributes: dict[str, str] = msgspec.field(default_factory=dict)
    tiers: dict[str, TierState] = msgspec.field(default_factory=dict)  # levels in the event's program (A258)
    # The group's balances in the event's program by asset symbol: storage reads them from the
    # ledger, a test case or the playground gives them, and the evaluation checks and moves them as
    # a participant's (A262). None (a journey step or simulation that gives no balances) leaves them
    # to the ledger, which checks the funds under the group's lock.
    balances: dict[str, Balance] | None = None
    # as a participant's: HELD amounts under a reference, and the open lots of LOT assets (A263)
    holds: dict[str, dict[str, Decimal]] = msgspec.field(default_factory=dict)
    lots: dict[str, list[Lot]] = msgspec.field(default_factory=dict)


class BudgetState(msgspec.Struct, kw_only=True):
    """How much of a rule's budget for one asset is already consumed in the current period.
    Storage resets `consumed` when the period rolls over before handing it to the engine."""

    consumed: Decimal = ZERO


class EventInput(msgspec.Struct, kw_only=True):
    """One event as the engine evaluates it.

    `event_timestamp` is the client's clock and becomes `now` in CEL; `received_at` is the server's
    receive time (the event's `created_at`), against which rule time windows are checked (D16).
    """

    event_data: dict[str, object]
    event_timestamp: datetime
    received_at: datetime
    id: str | None = None
    idempotency_key: str | None = None


class EvaluationInput(msgspec.Struct, kw_only=True):
    """Everything one evaluation reads besides the compiled program: the event, the state of its
    participant (and recipient, D17), the program's state and what each rule's budget has used
    (keyed by (rule name, asset symbol)). Storage builds one per event; test cases, the
    playground and the rule simulator build theirs from what the author gives.

    >>> EvaluationInput(event=event, participant=EntityState(external_id="alice"))
    """

    event: EventInput
    participant: EntityState | None  # None: a program's own event (a program-scope automation's)
    recipient: EntityState | None = None
    program_state: ProgramState = msgspec.field(default_factory=ProgramState)
    budgets: dict[tuple[str, str], BudgetState] = msgspec.field(default_factory=dict)
    # what the event's participant consumed of `per: participant` budgets, same keys (D37)
    participant_budgets: dict[tuple[str, str], BudgetState] = msgspec.field(default_factory=dict)
    group: GroupState | None = None  # the group the event names, if any
