"""The program bundle: one msgspec schema for rule files and for the API (D28).

A bundle file holds a program's settings, its assets, tiers, reward catalog
(`engine.model.rewards.Reward`), rules and test cases. The `Rule`
and action Structs here are exactly what `POST /v1/rules` accepts, so there is one definition of
a rule. Field names are Scrip's, so a Scrip rule loads unchanged. Files name assets by symbol in
`asset_id`; the API accepts an id or a symbol there.

Expression fields hold CEL source text: `condition`, and the amount-like fields `amount`,
COUNTER `value`, `reference_id` and target `id` / `external_id` / `participant_id`.
A number written in YAML for an amount is its CEL literal (`amount: 10` is `"10"`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from engine.limits import INTEGER_COLUMN_MAX
from engine.model.automation import AutomationSpec, AutomationTestCase
from engine.model.bundle_tests import (
    CounterInput,
    Expectation,
    GroupExpectation,
    GroupInput,
    JourneyStep,
    LotExpectation,
    LotInput,
    ProgramStateInput,
    Quantity,
    RedeemStep,
    ReverseStep,
    StateInput,
    TestCase,
    TransferStep,
)
from engine.model.instants import Instant
from engine.model.lifecycle import Lifecycle
from engine.model.rewards import Reward
from engine.model.structs import Description, Name, Struct

__all__ = [
    "CounterInput",
    "Description",
    "Expectation",
    "GroupExpectation",
    "GroupInput",
    "JourneyStep",
    "LotExpectation",
    "LotInput",
    "Name",
    "ProgramStateInput",
    "Quantity",
    "RedeemStep",
    "ReverseStep",
    "StateInput",
    "Struct",
    "TestCase",
    "TransferStep",
]

Symbol = Annotated[str, msgspec.Meta(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9]+$")]
Key = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]*$", max_length=100)]
Expr = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
# Amount-like fields: CEL text, or a YAML number standing for its literal.
ExprOrNumber = Expr | int | float
Bucket = Literal["AVAILABLE", "HELD"]
Status = Literal["ACTIVE", "SUSPENDED", "ARCHIVED"]
ScheduleType = Literal["CRON", "INTERVAL", "CALENDAR"]
# A calendar period, in the program's time zone or the one after `@` (D32, D37).
CalendarPeriod = Annotated[str, msgspec.Meta(pattern=r"^(day|week|month|year)(@[A-Za-z0-9_+\-/]{1,58})?$")]
UnknownParticipantPolicy = Literal["CREATE", "REJECT"]
InventoryMode = Literal["SIMPLE", "LOT"]
IssuancePolicy = Literal["UNLIMITED", "PREFUNDED"]
SpendingOrder = Literal["FIFO", "EXPIRING_FIRST"]


# --- targets and actions -------------------------------------------------------------------------


class Target(Struct, kw_only=True):
    """Who an action applies to. Without a target an action applies to the event's recipient if
    it has one, else to its participant (D17). `type: PARTICIPANT` with no id names the event's
    participant (the sender). `id`, `external_id` and `participant_id` are CEL expressions."""

    type: Literal["PARTICIPANT", "PROGRAM", "GROUP"]
    id: Expr | None = None
    external_id: Expr | None = None
    participant_id: Expr | None = None


class _Action(Struct, tag_field="type"):
    target: Target | None = None
    description: Description | None = None


class Credit(_Action, tag="CREDIT", kw_only=True):
    asset_id: str
    amount: ExprOrNumber
    bucket: Bucket = "AVAILABLE"
    reference_id: Expr | None = None
    # A Go duration after the event ("8760h"), an RFC 3339 time, or CEL giving either. Only LOT
    # assets expire credits; a credit that matures later lands in DEFERRED until then.
    expires_at: Expr | None = None
    matures_at: Expr | None = None


class Debit(_Action, tag="DEBIT", kw_only=True):
    asset_id: str
    amount: ExprOrNumber
    allow_negative: bool = False
    bucket: Bucket = "AVAILABLE"


class Hold(_Action, tag="HOLD", kw_only=True):
    asset_id: str
    amount: ExprOrNumber
    reference_id: Expr | None = None


class Release(_Action, tag="RELEASE", kw_only=True):
    asset_id: str
    amount: ExprOrNumber
    reference_id: Expr | None = None


class Forfeit(_Action, tag="FORFEIT", kw_only=True):
    asset_id: str
    amount: ExprOrNumber
    bucket: Bucket = "AVAILABLE"


class VoidHold(_Action, tag="VOID_HOLD", kw_only=True):
    asset_id: str
    reference_id: Expr


class Tag(_Action, tag="TAG", kw_only=True):
    tag: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]


class Untag(_Action, tag="UNTAG", kw_only=True):
    tag: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]


class Counter(_Action, tag="COUNTER", kw_only=True):
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    value: ExprOrNumber  # the increment
    # A Go duration since the last reset ("720h"), or a calendar period that resets the counter
    # when a new one begins ("month", in the program's time zone; "month@Europe/Paris").
    reset_after: str | None = None


class SetAttribute(_Action, tag="SET_ATTRIBUTE", kw_only=True):
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    value: Annotated[str, msgspec.Meta(min_length=1)]  # a literal string (not CEL)


class SetTier(_Action, tag="SET_TIER", kw_only=True):
    tier: str
    level: str
    # when the level lapses: a Go duration from the event's time, an RFC 3339 time, or CEL (A137)
    expires_at: Expr | None = None


class ScheduleEvent(_Action, tag="SCHEDULE_EVENT", kw_only=True):
    event_name: Name
    delay: str  # Go duration, measured from the event's event_timestamp
    payload: dict[str, Any] = msgspec.field(default_factory=dict)


class Broadcast(_Action, tag="BROADCAST", kw_only=True):
    event_name: Name
    payload: dict[str, Any] = msgspec.field(default_factory=dict)


Action = (
    Credit
    | Debit
    | Hold
    | Release
    | Forfeit
    | VoidHold
    | Tag
    | Untag
    | Counter
    | SetAttribute
    | SetTier
    | ScheduleEvent
    | Broadcast
)
ACTION_TYPES = tuple(cls.__struct_config__.tag for cls in Action.__args__)


# --- rules ---------------------------------------------------------------------------------------


class Budget(Struct, kw_only=True):
    """A cap on a rule's CREDIT amounts of one asset (D21, D37). No schedule means a lifetime
    budget. `per: participant` caps each participant's own events (the one whose event it is)
    instead of the whole program. `schedule_type: CALENDAR` with `period` resets the budget when a
    calendar day, week (from Monday), month or year begins in the program's time zone."""

    asset_id: str
    limit: Annotated[str, msgspec.Meta(pattern=r"^[0-9]+(\.[0-9]+)?$")]
    schedule_type: ScheduleType | None = None
    cron_expression: str | None = None
    interval: str | None = None  # Go duration such as "720h"
    period: CalendarPeriod | None = None  # with CALENDAR: day, week, month or year
    per: Literal["program", "participant"] = "program"


class Rule(Struct, kw_only=True):
    name: Name
    condition: Expr
    actions: Annotated[list[Action], msgspec.Meta(min_length=1, max_length=50)]
    description: Description | None = None
    order: Annotated[int, msgspec.Meta(ge=1, le=INTEGER_COLUMN_MAX)] | None = None  # default: previous max + 10
    stop_after_match: bool = False
    active_from: Instant | None = None
    active_to: Instant | None = None
    budgets: list[Budget] = msgspec.field(default_factory=list)
    status: Status = "ACTIVE"


# --- program, assets, tiers ----------------------------------------------------------------------


TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class ProgramSettings(Struct, kw_only=True):
    key: Key
    name: Name
    description: Description | None = None
    on_unknown_participant: UnknownParticipantPolicy = "CREATE"
    status: Status = "ACTIVE"
    # The IANA zone of the program's calendar periods (D32): budgets and counters per day, week,
    # month or year.
    timezone: TimeZone = "UTC"
    # What ingest does with event_data that does not fit its declared type (`events`): nothing,
    # accept and show the problems on the event, or refuse it (400 invalid_event_data).
    event_validation: Literal["OFF", "FLAG", "REJECT"] = "OFF"


class Asset(Struct, kw_only=True):
    symbol: Symbol
    name: Name
    scale: Annotated[int, msgspec.Meta(ge=0, le=18)]
    inventory_mode: InventoryMode = "SIMPLE"
    spending_order: SpendingOrder = "FIFO"  # LOT assets: which lots are spent first
    issuance_policy: IssuancePolicy = "UNLIMITED"
    max_transaction_amount: Annotated[str, msgspec.Meta(pattern=r"^[0-9]+(\.[0-9]+)?$")] | None = None


class Criterion(Struct, kw_only=True):
    counter: str
    operator: Literal[">=", ">", "==", "<=", "<"]
    threshold: int | float


class Qualification(Struct, kw_only=True):
    mode: Literal["ALL", "ANY"] = "ALL"
    criteria: list[Criterion] = msgspec.field(default_factory=list)


class TierLevel(Struct, kw_only=True):
    key: Key
    rank: Annotated[int, msgspec.Meta(ge=0, le=INTEGER_COLUMN_MAX)]
    display_name: Name | None = None
    benefits: dict[str, Any] = msgspec.field(default_factory=dict)
    qualification: Qualification | None = None


class TierType(Struct, kw_only=True):
    """A tier type. An ARCHIVED tier keeps its levels and participants' levels, but SET_TIER on it
    is skipped and its levels no longer move (A125). `lifecycle`: `engine.model.lifecycle`."""

    key: Key
    display_name: Name | None = None
    levels: Annotated[list[TierLevel], msgspec.Meta(min_length=1)]
    lifecycle: Lifecycle = msgspec.field(default_factory=Lifecycle)
    status: Literal["ACTIVE", "ARCHIVED"] = "ACTIVE"


# --- the bundle ----------------------------------------------------------------------------------


# An event field's declared type: a name (`double`, `string`, `bool`, `timestamp`, `list`,
# `map`, `any`) or a JSON-Schema-like object (`{type: list, items: ...}`, `{type: map,
# fields: {...}}`, `optional: true`). `engine.rules.event_types` reads them.
FieldType = str | dict[str, Any]


class Bundle(Struct, kw_only=True):
    program: ProgramSettings
    # Declared event types (optional): event type name -> field name -> type. When present,
    # expressions are type-checked against them and ingest may validate `event_data`.
    events: dict[Name, dict[str, FieldType]] = msgspec.field(default_factory=dict)
    assets: list[Asset] = msgspec.field(default_factory=list)
    tiers: list[TierType] = msgspec.field(default_factory=list)
    rewards: list[Reward] = msgspec.field(default_factory=list)  # the program's catalog, by name
    rules: list[Rule] = msgspec.field(default_factory=list)
    tests: list[TestCase] = msgspec.field(default_factory=list)
    automations: list[AutomationSpec] = msgspec.field(default_factory=list)  # engine.model.automation
    automation_tests: list[AutomationTestCase] = msgspec.field(default_factory=list)


SCHEMA_ID = "https://accrual.dev/schemas/bundle.json"


def bundle_json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a bundle file, for editors' completion and validation.

    Example: `bundle_json_schema()["$defs"]["Rule"]["required"] == ["name", "condition", "actions"]`.
    """
    schema = msgspec.json.schema(Bundle)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Accrual program bundle",
        "description": "A loyalty program as data: settings, assets, tiers, rules (CEL) and test cases.",
        **schema,
    }
