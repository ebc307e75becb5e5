"""Bodies of `/v1/rules`. A rule body is `engine.model.bundle.Rule` (one schema for files and the
API, D28) plus the `program_id` it belongs to; `asset_id`s may be ids or symbols."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas.common import Id, Request, Response
from engine.limits import INTEGER_COLUMN_MAX
from engine.model.bundle import Action, Budget, Description, Expr, Name, Rule
from engine.model.instants import Instant

RuleStatus = Literal["ACTIVE", "SUSPENDED", "ARCHIVED"]


class RuleCreate(Rule, kw_only=True):
    """Example: `{"program_id": "...", "name": "points", "condition": "event.type == 'purchase'",
    "actions": [{"type": "CREDIT", "asset_id": "PTS", "amount": "event.amount * 10.0"}]}`."""

    program_id: Id


class RulePatch(Request):
    """Any subset of the rule's fields (at least one); `actions` and `budgets` replace."""

    name: Name | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    condition: Expr | UnsetType = UNSET
    actions: Annotated[list[Action], msgspec.Meta(min_length=1, max_length=50)] | UnsetType = UNSET
    order: Annotated[int, msgspec.Meta(ge=1, le=INTEGER_COLUMN_MAX)] | UnsetType = UNSET
    stop_after_match: bool | UnsetType = UNSET
    active_from: Instant | UnsetType | None = UNSET
    active_to: Instant | UnsetType | None = UNSET
    budgets: list[Budget] | UnsetType = UNSET
    status: RuleStatus | UnsetType = UNSET


class BudgetOut(Response):
    asset_id: str
    limit: str
    consumed: str
    schedule_type: str | None
    cron_expression: str | None
    interval: str | None
    next_reset_at: datetime | None
    period: str | None = None  # with CALENDAR: day, week, month or year (in the program's zone)
    per: str = "program"  # program | participant (then `consumed` is the program-wide row's, 0)


class RuleOut(Response):
    id: str
    program_id: str
    version: int
    name: str
    description: str | None
    condition: str
    actions: list[Action]
    order: int
    stop_after_match: bool
    active_from: datetime | None
    active_to: datetime | None
    budgets: list[BudgetOut]
    status: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class ValidateRequest(Request):
    condition: Annotated[str, msgspec.Meta(max_length=65536)]


class ValidateResult(Response):
    valid: bool
    message: str
    note: str | None = None
    line: int | None = None
    column: int | None = None
    code: str | None = None


class ParticipantStateInput(Request):
    tags: list[str] = msgspec.field(default_factory=list)
    counters: dict[str, float | int | str] = msgspec.field(default_factory=dict)
    attributes: dict[str, str] = msgspec.field(default_factory=dict)


BalanceAmount = float | int | str


class GroupStateInput(Request):
    """The group the simulated event names (`group` in CEL, A264): `id` defaults to the event's
    `group_id`; `balances` are by asset symbol, an AVAILABLE amount or `{available, held,
    deferred}`; without them the rule sees `group.balances` empty and nothing checks them."""

    id: Annotated[str, msgspec.Meta(min_length=1, max_length=36)] | None = None
    name: Annotated[str, msgspec.Meta(max_length=255)] = ""
    status: Literal["ACTIVE", "ARCHIVED"] = "ACTIVE"
    tags: list[str] = msgspec.field(default_factory=list)
    counters: dict[str, float | int | str] = msgspec.field(default_factory=dict)
    attributes: dict[str, str] = msgspec.field(default_factory=dict)
    balances: dict[str, BalanceAmount | dict[str, BalanceAmount]] | None = None


class SimulateRequest(Request):
    """Example: `{"event": {"type": "purchase", "amount": 12.5}, "participant_state": {"tags": ["vip"]},
    "event_timestamp": "2026-03-07T10:00:00Z"}`.

    `event_timestamp` is `now` in the rule's expressions (a weekend rule simulated for a past
    Saturday); by default the server's current time. `received_at` is the time the rule's
    `active_from` / `active_to` window is judged against (D16); by default `event_timestamp`.
    `group_state` is the group the event names with `group_id` (`group` in CEL)."""

    event: dict[str, Any]
    participant_state: ParticipantStateInput | None = None
    group_state: GroupStateInput | None = None
    event_timestamp: Instant | None = None
    received_at: Instant | None = None


class SimulatedRule(Response):
    id: str
    name: str
    condition: str
    order: int
    stop_after_match: bool


class ActionResult(Response):
    action: str
    result: dict[str, Any]


class SimulatedEvaluation(Response):
    matched: bool
    status: Literal["evaluated", "condition_failed"]
    reason: str | None = None
    results: list[ActionResult] | None = None


class SimulateResult(Response):
    rule: SimulatedRule
    evaluation: SimulatedEvaluation


class RuleHistoryOut(Response):
    id: str
    rule_id: str
    program_id: str
    version: int
    change_type: str
    changes: dict[str, Any]
    snapshot: dict[str, Any]
    changed_by_api_key_id: str | None
    changed_at: datetime
