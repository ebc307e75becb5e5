"""Automations of a program for the API, through `engine.store.automations` (A145, A147).

Every write runs in one transaction with the automation's row locked, so a patch, a trigger or a
cancel never races the scheduler's claim (`engine.worker.automations`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import msgspec
from msgspec import UNSET

from api.errors import BadRequest, NotFound
from api.pagination import Page, paginate
from api.schemas.automations import AutomationOut, AutomationPatch, SubscriptionOut
from engine.model.automation import AutomationSpec, FilterHint
from engine.rules.automations import AutomationError
from engine.store import automations, lookups
from engine.store.db import utcnow, write_transaction
from engine.store.models import AutomationRecord, AutomationSubscription

# Patch fields that live in the trigger.
_TRIGGER_FIELDS = ("cron_expression", "timezone", "trigger_at", "schedule_config")


def automation_out(row: AutomationRecord) -> AutomationOut:
    trigger: dict[str, Any] = row.trigger or {}
    progress: dict[str, Any] = {}
    if row.event_id is not None:
        progress["event_id"] = row.event_id
    if row.scope == "participants":
        progress |= {
            "participants_total": row.participants_total or 0,
            "participants_processed": row.participants_processed or 0,
        }
    trigger_at = trigger.get("trigger_at")
    return AutomationOut(
        id=row.id,
        program_id=row.program_id,
        name=row.name,
        description=row.description,
        event_name=row.event_name,
        payload=row.payload or {},
        scope=row.scope,
        trigger_type=row.trigger_type,
        cron_expression=trigger.get("cron_expression"),
        timezone=trigger.get("timezone"),
        trigger_at=datetime.fromisoformat(trigger_at) if isinstance(trigger_at, str) else None,
        schedule_type=trigger.get("schedule_type"),
        schedule_config=trigger.get("schedule_config"),
        participant_filter=row.participant_filter,
        guard_condition=row.guard_condition,
        filter_hints=msgspec.convert(row.filter_hints or [], list[FilterHint]),
        participant_id=row.participant_id,
        status=row.status,
        source=row.source,
        next_run_at=row.next_run_at,
        last_run_at=row.last_run_at,
        last_error=row.last_error,
        processed_at=row.processed_at,
        execution_status=row.execution_status,
        execution_started_at=row.execution_started_at,
        execution_completed_at=row.execution_completed_at,
        execution_error=row.execution_error,
        created_at=row.created_at,
        updated_at=row.updated_at,
        **progress,
    )


def create_automation(org_id: str, program_id: str, data: AutomationSpec) -> AutomationOut:
    lookups.program(org_id, program_id)
    with write_transaction(), _as_bad_request():
        return automation_out(automations.create_automation(org_id, program_id, data, now=utcnow()))


def get_automation(org_id: str, program_id: str, automation_id: str) -> AutomationOut:
    return automation_out(_find(org_id, program_id, automation_id))


def list_automations(
    org_id: str,
    program_id: str,
    *,
    search: str | None,
    trigger_type: str | None,
    scope: str | None,
    status: str | None,
    source: str | None,
    limit: int,
    cursor: str | None,
) -> Page[AutomationOut]:
    """Newest first; the filters combine (AND); `search` matches the name, case-insensitively."""
    lookups.program(org_id, program_id)
    query = AutomationRecord.select().where(
        (AutomationRecord.organisation == org_id) & (AutomationRecord.program == program_id)
    )
    for column, value in (
        (AutomationRecord.trigger_type, trigger_type),
        (AutomationRecord.scope, scope),
        (AutomationRecord.status, status),
        (AutomationRecord.source, source),
    ):
        if value is not None:
            query = query.where(column == value)
    if search:
        query = query.where(AutomationRecord.name.contains(search))
    return paginate(
        query,
        keys=[AutomationRecord.created_at, AutomationRecord.id],
        descending=True,
        limit=limit,
        cursor=cursor,
        listing="automations",
        render=automation_out,
    )


def patch_automation(org_id: str, program_id: str, automation_id: str, data: AutomationPatch) -> AutomationOut:
    given = {name: value for name, value in msgspec.structs.asdict(data).items() if value is not UNSET}
    if not given:
        raise BadRequest("give at least one field to change", details={"field": "body", "reason": "invalid"})
    with write_transaction(), _as_bad_request():
        record = _locked(org_id, program_id, automation_id)
        current = msgspec.to_builtins(automations.spec_of(record))
        trigger = current["trigger"]
        for name in _TRIGGER_FIELDS:
            if name in given:
                trigger[name] = msgspec.to_builtins(given.pop(name))
        merged = {
            **current,
            **msgspec.to_builtins(given),
            "trigger": {k: v for k, v in trigger.items() if v is not None},
        }
        spec = msgspec.convert({k: v for k, v in merged.items() if v is not None}, AutomationSpec)
        automations.replace_spec(record, spec, now=utcnow())
        return automation_out(record)


def archive_automation(org_id: str, program_id: str, automation_id: str) -> AutomationOut:
    with write_transaction():
        record = _locked(org_id, program_id, automation_id)
        return automation_out(automations.set_status(record, "archived", now=utcnow()))


def trigger_automation(org_id: str, program_id: str, automation_id: str) -> AutomationOut:
    with write_transaction():
        record = _locked(org_id, program_id, automation_id)
        return automation_out(automations.trigger_now(record, now=utcnow()))


def cancel_automation(org_id: str, program_id: str, automation_id: str) -> AutomationOut:
    with write_transaction():
        record = _locked(org_id, program_id, automation_id)
        return automation_out(automations.cancel_execution(record, now=utcnow()))


def refresh_subscriptions(org_id: str, program_id: str, automation_id: str) -> None:
    """Re-evaluate a participant_state automation's filter over the program's participants at the
    next scheduler pass (A149); 400 for other automations and for one that is not active."""
    with write_transaction():
        record = _locked(org_id, program_id, automation_id)
        if record.trigger_type != "participant_state":
            raise BadRequest(
                f"automation {record.name!r} is a {record.trigger_type} automation: only participant_state "
                "automations have subscriptions",
                code="not_participant_state",
            )
        if record.status != "active":
            raise BadRequest(f"automation {record.name!r} is {record.status}", code="automation_not_active")
        if record.execution_status not in ("pending", "executing"):
            record.next_run_at, record.updated_at = utcnow(), utcnow()
            record.save()


def subscription_out(row: AutomationSubscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=row.id,
        automation_id=row.automation_id,
        participant_id=row.participant_id,
        status=row.status,
        next_trigger_at=row.next_trigger_at,
        last_triggered_at=row.last_triggered_at,
        trigger_count=row.trigger_count,
        retry_count=row.retry_count,
        last_error=row.last_error,
        created_at=row.created_at,
    )


def list_subscriptions(
    org_id: str, program_id: str, automation_id: str, *, status: str | None, limit: int, cursor: str | None
) -> Page[SubscriptionOut]:
    """Oldest first; empty for automations other than participant_state ones."""
    _find(org_id, program_id, automation_id)
    query = AutomationSubscription.select().where(AutomationSubscription.automation == automation_id)
    if status is not None:
        query = query.where(AutomationSubscription.status == status)
    return paginate(
        query,
        keys=[AutomationSubscription.created_at, AutomationSubscription.id],
        descending=False,
        limit=limit,
        cursor=cursor,
        listing="subscriptions",
        render=subscription_out,
    )


def _find(org_id: str, program_id: str, automation_id: str) -> AutomationRecord:
    lookups.program(org_id, program_id)
    found = AutomationRecord.get_or_none(
        (AutomationRecord.id == automation_id)
        & (AutomationRecord.organisation == org_id)
        & (AutomationRecord.program == program_id)
    )
    if found is None:
        raise NotFound("automation not found")
    return found


def _locked(org_id: str, program_id: str, automation_id: str) -> AutomationRecord:
    _find(org_id, program_id, automation_id)
    record = automations.lock_automation(automation_id)
    if record is None:
        raise NotFound("automation not found")
    return record


@contextlib.contextmanager
def _as_bad_request() -> Iterator[None]:
    """An automation that does not check is a 400 `invalid_automation` with every problem."""
    try:
        yield
    except AutomationError as exc:
        problems = [
            {"field": ".".join(map(str, p.path)), "message": str(p.error), "code": p.code} for p in exc.problems
        ]
        raise BadRequest(exc.message, code="invalid_automation", details={"problems": problems}) from exc
    except msgspec.ValidationError as exc:
        raise BadRequest(str(exc), details={"field": "body", "reason": "invalid"}) from exc
