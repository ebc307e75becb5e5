"""Automations as data: one schema for bundle files and the API (D28), with Scrip's field names.

An automation creates SYSTEM events on the calendar or on a participant's state: its trigger says
when, its scope for whom, `event_name` and `payload` what (`event_data = {**payload, "type":
event_name}`, as follow-up events, A57).

    automations:
      - name: monthly_double_points
        event_name: double_points.start
        scope: program
        trigger: {type: cron, cron_expression: "0 0 1 * *", timezone: Europe/London}
      - name: birthday_bonus
        event_name: birthday
        scope: participants
        trigger:
          type: participant_state
          schedule_type: ATTRIBUTE_DATE
          schedule_config: {attribute: birthday, time: "09:00"}
        participant_filter: has(participant.attributes.birthday)

Triggers and scopes (Scrip's table): `cron` and `one_time` fire for the program (one event, of
no participant; a one_time one may name a `participant_id` instead) or for its participants (one
event each); `immediate` and `participant_state` for participants only. `participant_filter`
(participants scope) and `guard_condition` are CEL, compiled and checked like rule conditions
(`engine.rules.automations`). `schedule_config` is read by the Struct its `schedule_type`
names (`SCHEDULE_CONFIGS`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from engine.model.instants import Instant, read_instants


class Struct(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """Base of the automation Structs: unknown keys are errors, defaults are not echoed (as the
    bundle's Structs, which embed these); `Instant` fields are RFC 3339 text with an offset."""

    def __post_init__(self) -> None:
        read_instants(self)


Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Description = Annotated[str, msgspec.Meta(max_length=1000)]
Expr = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
TriggerType = Literal["cron", "one_time", "immediate", "participant_state"]
Scope = Literal["program", "participants"]
ScheduleType = Literal["ATTRIBUTE_DATE", "INTERVAL", "CRON", "THRESHOLD"]
AutomationStatus = Literal["active", "paused", "archived"]
Source = Literal["api", "rule_action"]
# The fan-out of one firing to participants (and a participant_state refresh).
ExecutionStatus = Literal["idle", "pending", "executing", "completed", "failed"]
SubscriptionStatus = Literal["active", "completed", "failed", "cancelled"]

TRIGGER_TYPES: tuple[str, ...] = ("cron", "one_time", "immediate", "participant_state")
SCHEDULE_TYPES: tuple[str, ...] = ("ATTRIBUTE_DATE", "INTERVAL", "CRON", "THRESHOLD")
# Which scopes each trigger serves (Scrip validates the same table).
SCOPES_OF: dict[str, tuple[str, ...]] = {
    "cron": ("program", "participants"),
    "one_time": ("program", "participants"),
    "immediate": ("participants",),
    "participant_state": ("participants",),
}

CronText = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Key = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
ClockTime = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Comparison = Literal[">=", ">", "==", "<=", "<"]


class Trigger(Struct, kw_only=True):
    """When an automation fires. `timezone` (IANA) is the wall clock of `cron_expression` and of
    participant_state schedules; without one the program's zone applies (D32)."""

    type: TriggerType
    cron_expression: CronText | None = None  # cron
    timezone: TimeZone | None = None
    trigger_at: Instant | None = None  # one_time, with its offset
    schedule_type: ScheduleType | None = None  # participant_state
    schedule_config: dict[str, Any] | None = None


class FilterHint(Struct, kw_only=True):
    """A condition every participant the filter chooses meets, used to narrow the candidates
    before the filter runs: `{type: has_tag, key: vip}`."""

    type: Literal["has_tag", "has_attribute", "has_counter"]
    key: Key


class AutomationSpec(Struct, kw_only=True):
    """An automation as a bundle file (and the API's create body) writes it."""

    name: Name
    event_name: Name
    scope: Scope
    trigger: Trigger
    description: Description | None = None
    payload: dict[str, Any] = msgspec.field(default_factory=dict)
    participant_filter: Expr | None = None
    guard_condition: Expr | None = None
    filter_hints: Annotated[list[FilterHint], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    # A program-scope one_time automation may fire for one participant (its id) rather than none.
    participant_id: Annotated[str, msgspec.Meta(min_length=1, max_length=36)] | None = None
    status: Literal["active", "paused"] = "active"


# --- schedule_config, by schedule_type ----------------------------------------------------------


class AttributeDateConfig(Struct, kw_only=True):
    """A date held by a participant attribute: `06-15` or `1990-06-15` (yearly on that day), or a
    full date fired `once`; at `time` on the trigger's wall clock. A yearly 29 February fires on
    28 February in other years."""

    attribute: Key
    time: ClockTime = "00:00"
    recurrence: Literal["yearly", "once"] = "yearly"


class IntervalConfig(Struct, kw_only=True):
    """Every `interval` (a Go duration) since the participant subscribed, or since its latest
    event (`since: last_event`: an inactivity nudge); once unless `repeat`."""

    interval: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    since: Literal["subscribed", "last_event"] = "subscribed"
    repeat: bool = False


class CronConfig(Struct, kw_only=True):
    """Each participant on a cron schedule of its own (`guard_condition` decides each time)."""

    cron_expression: CronText


class ThresholdConfig(Struct, kw_only=True):
    """When a counter of the participant meets `operator threshold`; with `repeat`, again each
    time it meets it after having stopped meeting it (a counter that resets)."""

    counter: Key
    threshold: int | float
    operator: Comparison = ">="
    repeat: bool = False


ScheduleConfig = AttributeDateConfig | IntervalConfig | CronConfig | ThresholdConfig
SCHEDULE_CONFIGS: dict[str, type[ScheduleConfig]] = {
    "ATTRIBUTE_DATE": AttributeDateConfig,
    "INTERVAL": IntervalConfig,
    "CRON": CronConfig,
    "THRESHOLD": ThresholdConfig,
}


# --- test cases: what an automation fires for a participant in a window of time ----------------


class ParticipantInput(Struct, kw_only=True):
    """A participant as an automation's expressions see it (no balances: they see none)."""

    external_id: str | None = None
    status: Literal["ACTIVE", "SUSPENDED", "CLOSED"] = "ACTIVE"
    tags: list[str] = msgspec.field(default_factory=list)
    counters: dict[str, int | float | str] = msgspec.field(default_factory=dict)
    attributes: dict[str, str] = msgspec.field(default_factory=dict)
    tiers: dict[str, str] = msgspec.field(default_factory=dict)


class ProgramInput(Struct, kw_only=True):
    tags: list[str] = msgspec.field(default_factory=list)
    counters: dict[str, int | float | str] = msgspec.field(default_factory=dict)
    attributes: dict[str, str] = msgspec.field(default_factory=dict)


class AutomationExpectation(Struct, kw_only=True):
    """What an automation test expects; only the given fields are compared. `fires` lists the
    firing times in the window for the participant (after its filter and guard), in order;
    `event` is the event_data each firing creates."""

    fires: list[datetime] | None = None
    event: dict[str, Any] | None = None


class AutomationTestCase(Struct, kw_only=True):
    """What `automation` fires in `(after, at]` (default: the minute ending at `at`) for
    `participant`, given the program's state. `subscribed_at` and `last_event_at` anchor INTERVAL
    schedules (default: the window's start)."""

    name: Name
    automation: Name
    at: datetime
    after: datetime | None = None
    description: Description | None = None
    participant: ParticipantInput = msgspec.field(default_factory=ParticipantInput)
    program: ProgramInput = msgspec.field(default_factory=ProgramInput)
    subscribed_at: datetime | None = None
    last_event_at: datetime | None = None
    expect: AutomationExpectation = msgspec.field(default_factory=AutomationExpectation)


def automation_event_data(event_name: str, payload: dict[str, Any] | None) -> dict[str, Any]:
    """The data of an event an automation creates: its payload with `type` set to its event name
    (the name wins over a payload key `type`, as for follow-up events)."""
    return {**(payload or {}), "type": event_name}
