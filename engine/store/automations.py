"""Automations as rows (A145): created from a checked spec, changed, paused and resumed,
archived, triggered now; `next_run_at` is what the scheduler claims (`engine.worker.automations`).

    record = create_automation(org_id, program_id, spec, now=now)   # next_run_at: its first firing
    set_status(record, "paused", now=now)                           # no new firing until resumed

A spec is checked as `accrual check` checks it (`engine.rules.automations`, code
`invalid_automation` with every problem) against the program's time zone. `next_run_at` is the
next cron time after now, a one_time trigger's `trigger_at` (a time already past fires at the
next pass), and now for an immediate trigger and for a participant_state one (its first
refresh of subscriptions, `engine.worker.subscriptions`). The scheduler claims only active
automations; resuming computes `next_run_at` again from the resume time, so a paused cron
automation never fires the times it missed, while a one_time automation that has not fired yet fires at the next
pass (one that has fired never fires again unless its `trigger_at` changes).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from engine.model.automation import AutomationSpec, Trigger
from engine.model.cron import next_fire
from engine.rules.automations import CompiledAutomation, require_automation
from engine.store import lookups, statements
from engine.store.db import unique_insert
from engine.store.errors import Conflict, Duplicate
from engine.store.models import AutomationRecord, Program

LIVE = ("active", "paused")


def spec_of(record: AutomationRecord) -> AutomationSpec:
    """The automation as its spec (what a bundle file or the API wrote)."""
    fields: dict[str, Any] = {
        "name": record.name,
        "event_name": record.event_name,
        "scope": record.scope,
        "trigger": record.trigger,
        "description": record.description,
        "payload": record.payload or {},
        "participant_filter": record.participant_filter,
        "guard_condition": record.guard_condition,
        "filter_hints": record.filter_hints or [],
        "participant_id": record.participant_id,
        "status": "paused" if record.status == "paused" else "active",
    }
    return msgspec.convert({k: v for k, v in fields.items() if v is not None}, AutomationSpec)


def compiled_of(record: AutomationRecord, program_zone: str | None = None) -> CompiledAutomation:
    """The automation compiled, on its own zone or its program's."""
    zone = program_zone if program_zone is not None else program_zone_of(record.program_id)
    return require_automation(spec_of(record), zone)


def program_zone_of(program_id: str) -> str:
    found = Program.select(Program.timezone).where(Program.id == program_id).first()
    return found.timezone if found is not None else "UTC"


def first_run(trigger: Trigger, now: datetime, timezone: str) -> datetime | None:
    """When a new (or resumed, or re-timed) automation fires first."""
    if trigger.type == "cron" and trigger.cron_expression:
        return next_fire(trigger.cron_expression, now, timezone)
    if trigger.type == "one_time" and trigger.trigger_at is not None:
        return trigger.trigger_at.astimezone(UTC)
    if trigger.type in ("immediate", "participant_state"):  # participant_state: subscribe now
        return now
    return None


def create_automation(
    organisation_id: str, program_id: str, spec: AutomationSpec, *, now: datetime, source: str = "api"
) -> AutomationRecord:
    """A new automation of the program; `invalid_automation` when the spec does not check, 404 for a
    `participant_id` the organisation does not have, 409
    `automation_exists` for a live name. Call it inside a write transaction."""
    zone = program_zone_of(program_id)
    compiled = require_automation(spec, zone)
    if spec.participant_id is not None:
        lookups.participant(organisation_id, spec.participant_id)
    record = AutomationRecord(
        organisation=organisation_id,
        program=program_id,
        source=source,
        created_at=now,
        updated_at=now,
        **_columns(spec),
    )
    record.next_run_at = first_run(spec.trigger, now, compiled.timezone) if spec.status == "active" else None
    try:
        with unique_insert():
            record.save(force_insert=True)
    except Duplicate:
        raise Conflict(f"automation {spec.name!r} exists in this program", code="automation_exists") from None
    return record


def replace_spec(record: AutomationRecord, spec: AutomationSpec, *, now: datetime) -> list[str]:
    """Make the automation match `spec` (a patch, or `accrual apply`); returns the changed
    fields. A changed trigger re-times the next firing; a changed status pauses or resumes it."""
    zone = program_zone_of(record.program_id)
    compiled = require_automation(spec, zone)
    if record.status == "archived":
        raise Conflict(f"automation {record.name!r} is archived", code="automation_archived")
    require_editable(record)
    if (spec.trigger.type, spec.scope, spec.participant_id) != (
        record.trigger_type,
        record.scope,
        record.participant_id,
    ):
        raise Conflict("an automation's trigger type, scope and participant cannot change", code="immutable_field")
    before = spec_of(record)
    changed = [
        name
        for name in AutomationSpec.__struct_fields__
        if msgspec.to_builtins(getattr(before, name)) != msgspec.to_builtins(getattr(spec, name))
    ]
    if not changed:
        return []
    for column, value in _columns(spec).items():
        setattr(record, column, value)
    if ("trigger" in changed or "status" in changed) and spec.status == "active":
        once = spec.trigger.type in ("one_time", "immediate")
        if "trigger" in changed or not (once and record.processed_at is not None):
            record.next_run_at = first_run(spec.trigger, now, compiled.timezone)
            record.processed_at = None if "trigger" in changed else record.processed_at
        record.failures = 0
    record.updated_at = now
    try:
        with unique_insert():
            record.save()
    except Duplicate:
        raise Conflict(f"automation {spec.name!r} exists in this program", code="automation_exists") from None
    return changed


def set_status(record: AutomationRecord, status: str, *, now: datetime) -> AutomationRecord:
    """Pause (no new firing; a fan-out under way goes on), resume (next firing from now) or
    archive (for good; a fan-out under way is cancelled)."""
    if record.status == "archived":
        raise Conflict(f"automation {record.name!r} is archived", code="automation_archived")
    require_editable(record)
    if status == "archived":
        record.status = "archived"
        if record.execution_status in ("pending", "executing"):
            _stop_execution(record, "the automation was archived", now)
    else:
        spec = msgspec.structs.replace(spec_of(record), status=status)
        replace_spec(record, spec, now=now)
        return record
    record.updated_at = now
    record.save()
    return record


def trigger_now(record: AutomationRecord, *, now: datetime) -> AutomationRecord:
    """Fire at the next pass (`next_run_at` = now): the automation must be active, and not fanning
    out already; a participant_state automation fires per participant (`refresh-subscriptions`
    re-runs its filter), and a program-scope one_time one only at its `trigger_at` (as in Scrip)."""
    require_editable(record)
    if (record.trigger_type, record.scope) == ("one_time", "program"):
        raise Conflict(
            "a program-scope one_time automation fires at its trigger_at; change trigger_at to fire it sooner",
            code="automation_not_triggerable",
        )
    if record.trigger_type == "participant_state":
        raise Conflict(
            "a participant_state automation fires on each participant's schedule; refresh its subscriptions instead",
            code="automation_not_triggerable",
        )
    if record.status != "active" or record.execution_status in ("pending", "executing"):
        raise Conflict(
            "automation cannot be triggered: it must be active and not already firing", code="automation_not_idle"
        )
    record.next_run_at = now
    record.updated_at = now
    record.save()
    return record


def cancel_execution(record: AutomationRecord, *, now: datetime) -> AutomationRecord:
    """Stop the fan-out under way: participants already reached keep their events, the rest get
    none; the automation stays as it is and fires again on its schedule."""
    require_editable(record)
    if record.execution_status not in ("pending", "executing"):
        raise Conflict("the automation has no firing under way", code="automation_not_executing")
    _stop_execution(record, "cancelled", now)
    record.save()
    return record


def event_key(automation_id: str, fire_at: datetime, participant_id: str) -> str:
    """The idempotency key of one firing's event for one participant."""
    return f"automation:{automation_id}:{fire_at.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}:{participant_id}"


def lock_automation(automation_id: str) -> AutomationRecord | None:
    """The row, locked for this transaction (FOR UPDATE on PostgreSQL; SQLite's write
    transaction holds its lock already)."""
    found = statements.fetch(AutomationRecord, "id = {p}", [automation_id], for_update=True)
    return found[0] if found else None


def _stop_execution(record: AutomationRecord, why: str, now: datetime) -> None:
    record.execution_status = "failed"
    record.execution_error = why
    record.execution_completed_at = now
    record.updated_at = now


def require_editable(record: AutomationRecord) -> None:
    """409 `automation_read_only` for an automation a SCHEDULE_EVENT action made: its event is
    written already, so there is nothing to change, fire or cancel (A222)."""
    if record.source == "rule_action":
        raise Conflict(
            f"automation {record.name!r} was made by a SCHEDULE_EVENT action and is read-only",
            code="automation_read_only",
        )


def _columns(spec: AutomationSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "description": spec.description,
        "event_name": spec.event_name,
        "payload": msgspec.to_builtins(spec.payload) or None,
        "scope": spec.scope,
        "trigger": msgspec.to_builtins(_in_utc(spec.trigger)),
        "trigger_type": spec.trigger.type,
        "participant_filter": spec.participant_filter,
        "guard_condition": spec.guard_condition,
        "filter_hints": msgspec.to_builtins(spec.filter_hints) or None,
        "participant_id": spec.participant_id,
        "status": spec.status,
    }


def _in_utc(trigger: Trigger) -> Trigger:
    """The trigger with `trigger_at` in UTC, as every stored time is."""
    if trigger.trigger_at is None or trigger.trigger_at.tzinfo is None:
        return trigger
    return msgspec.structs.replace(trigger, trigger_at=trigger.trigger_at.astimezone(UTC))
