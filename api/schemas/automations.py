"""Bodies of `/v1/programs/{program_id}/automations` (Scrip's automation, A147). A create body is
`engine.model.automation.AutomationSpec`, the schema bundle files use (D28); a patch names the
editable fields flat, as Scrip does (`cron_expression`, `timezone`, `trigger_at`,
`schedule_config` change the trigger); the answer flattens the trigger into `trigger_type` and its
fields and adds the scheduler's progress."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas.common import Request, Response
from engine.model.automation import CronText, Description, Expr, FilterHint, Name, TimeZone
from engine.model.instants import Instant

AutomationStatusFilter = Literal["active", "paused", "archived"]


class AutomationPatch(Request, kw_only=True):
    """Omitted fields stay; `null` clears `description`, `timezone`, `participant_filter`,
    `guard_condition`. Example: `{"status": "paused"}`, `{"cron_expression": "0 10 * * *"}`."""

    name: Name | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    event_name: Name | UnsetType = UNSET
    payload: dict[str, Any] | UnsetType = UNSET
    status: Literal["active", "paused"] | UnsetType = UNSET
    cron_expression: CronText | UnsetType = UNSET
    timezone: TimeZone | UnsetType | None = UNSET
    trigger_at: Instant | UnsetType = UNSET
    schedule_config: dict[str, Any] | UnsetType = UNSET
    participant_filter: Expr | UnsetType | None = UNSET
    guard_condition: Expr | UnsetType | None = UNSET
    filter_hints: Annotated[list[FilterHint], msgspec.Meta(max_length=20)] | UnsetType = UNSET


class AutomationOut(Response, kw_only=True):
    id: str
    program_id: str
    name: str
    description: str | None
    event_name: str
    payload: dict[str, Any]
    scope: str
    trigger_type: str
    cron_expression: str | None
    timezone: str | None
    trigger_at: datetime | None
    schedule_type: str | None
    schedule_config: dict[str, Any] | None
    participant_filter: str | None
    guard_condition: str | None
    filter_hints: list[FilterHint]
    participant_id: str | None  # a program-scope one_time automation's participant; a rule_action one's
    status: str
    source: str
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_error: str | None
    processed_at: datetime | None
    execution_status: str
    execution_started_at: datetime | None
    execution_completed_at: datetime | None
    execution_error: str | None
    event_id: str | UnsetType = UNSET  # source rule_action: the follow-up event it stands for
    participants_total: int | UnsetType = UNSET  # participants scope only
    participants_processed: int | UnsetType = UNSET
    created_at: datetime
    updated_at: datetime


class SubscriptionOut(Response, kw_only=True):
    """A participant's subscription to a participant_state automation."""

    id: str
    automation_id: str
    participant_id: str
    status: str
    next_trigger_at: datetime | None
    last_triggered_at: datetime | None
    trigger_count: int
    retry_count: int
    last_error: str | None
    created_at: datetime
