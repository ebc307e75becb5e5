"""Automations fired by the scheduler (D33, A146): each due firing claimed once, then fanned out
to the program's participants in batches, every batch in the transaction that writes its events.

    applied = fire_due_automations(now, limit=500)   # firings started + batches fanned out

A firing starts in one transaction: the automation's row is locked and read again, and only an
active automation whose `next_run_at` has come and which is not fanning out already starts; its
`next_run_at` moves on (the next cron time after now, none for one_time and immediate) in the
same transaction, so two workers never start it twice. Each batch then locks the row again, takes
the next `FANOUT_BATCH` enrolled participants after `execution_cursor` (by id), runs the
automation's filter and guard for each (`engine.evaluator.automations.decide`), writes one SYSTEM
event per participant that passes, and moves the cursor, all in one transaction: a crash loses the
batch whole and the next pass does it again. The events' idempotency keys,
`automation:{automation id}:{firing time}:{participant id}`, and the program's unique key index
are the last word should two runs ever meet.

A program-scope firing is one event, written in the transaction that claims the firing (A220):
of no participant (the program's lane), or of the one participant a one_time automation names;
its guard sees the program and the firing time, and its key is
`automation:{automation id}:{firing time}:program` (or the participant's id).

A firing fails when a batch cannot be written, or when every participant's filter or guard errored
and nothing was created; `FAILURES_MAX` consecutive failures stop the fan-out and pause a cron
automation, with `last_error` saying why. A completed firing that created events resets the count.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

from engine.errors import EngineError
from engine.evaluator.automations import decide
from engine.model.automation import automation_event_data
from engine.model.cron import next_fire
from engine.model.state import EntityState, ProgramState
from engine.queue import enqueue_event
from engine.rules.automations import CompiledAutomation
from engine.store.automations import compiled_of, event_key, lock_automation
from engine.store.db import write_transaction
from engine.store.followups import FollowUp, write_system_events
from engine.store.models import AutomationRecord, Enrolment, Participant
from engine.store.owner_state import participant_state, program_state
from engine.worker.subscriptions import REFRESH_EVERY, refresh_batch

log = logging.getLogger("accrual.automations")

FANOUT_BATCH = 500  # participants per transaction
FAILURES_MAX = 3  # consecutive failed firings (or batches) that stop a fan-out and pause a cron automation
RUNNING = ("pending", "executing")


def fire_due_automations(now: datetime, limit: int = 500) -> int:
    """Start the firings due at `now`, then fan out every firing under way, at most `limit`
    steps (a start or a batch) in all; returns how many were taken."""
    taken = 0
    for automation_id in _due(now, limit):
        taken += _start(automation_id, now)
    while taken < limit:
        running = _running(limit - taken)
        if not running:
            break
        for automation_id in running:
            taken += _advance(automation_id, now)
    return taken


def count_due_automations(now: datetime) -> int:
    """Firings due to start at `now` plus fan-outs under way (for progress)."""
    return (
        _due_query(now).count()
        + AutomationRecord.select().where(AutomationRecord.execution_status.in_(RUNNING)).count()
    )


def _due_query(now: datetime):
    return AutomationRecord.select(AutomationRecord.id).where(
        (AutomationRecord.status == "active")
        & AutomationRecord.next_run_at.is_null(False)
        & (AutomationRecord.next_run_at <= now)
        & AutomationRecord.execution_status.not_in(RUNNING)
    )


def _due(now: datetime, limit: int) -> list[str]:
    query = _due_query(now).order_by(AutomationRecord.next_run_at, AutomationRecord.id).limit(limit)
    return [row.id for row in query]


def _running(limit: int) -> list[str]:
    query = (
        AutomationRecord.select(AutomationRecord.id)
        .where(AutomationRecord.execution_status.in_(RUNNING))
        .order_by(AutomationRecord.execution_started_at, AutomationRecord.id)
        .limit(limit)
    )
    return [row.id for row in query]


def _start(automation_id: str, now: datetime) -> int:
    """Claim one due firing: 1 when this call started it, 0 when it was no longer due."""
    with write_transaction():
        record = lock_automation(automation_id)
        if record is None or record.status != "active" or record.execution_status in RUNNING:
            return 0
        if record.next_run_at is None or record.next_run_at > now:
            return 0
        compiled = compiled_of(record)
        fire_at = record.next_run_at
        trigger = compiled.spec.trigger
        # Times missed while nothing ran are one firing: the next is the first one after now.
        record.next_run_at = (
            next_fire(trigger.cron_expression, now, compiled.timezone) if trigger.cron_expression else None
        )
        if trigger.type == "participant_state":  # a refresh of its subscriptions, again a day on
            record.next_run_at = now + REFRESH_EVERY
        elif trigger.type != "cron":
            record.processed_at = now
        record.last_run_at = fire_at
        record.execution_status = "executing"
        record.execution_fire_at = fire_at
        record.execution_cursor = None
        record.execution_started_at = now
        record.execution_completed_at = None
        record.execution_error = None
        record.participants_total = Enrolment.select().where(Enrolment.program == record.program_id).count()
        record.participants_processed = 0
        record.events_created = 0
        record.execution_errors = 0
        record.updated_at = now
        if record.scope == "program":
            record.participants_total = None
            _fire_program(record, compiled, fire_at, now)
        record.save()
    return 1


def _fire_program(record: AutomationRecord, compiled: CompiledAutomation, fire_at: datetime, now: datetime) -> None:
    """The one event of a program-scope firing, in the claiming transaction: written or not, the
    firing ends here (no fan-out)."""
    record.execution_completed_at = now
    decision = decide(compiled, None, program_state(record.program_id, {}), fire_at)
    target = None
    if record.participant_id is not None:
        target = Participant.get_or_none(Participant.id == record.participant_id)
    error = decision.error
    if error is None and record.participant_id is not None and target is None:
        error = f"participant {record.participant_id} not found"
    if error is not None:
        record.execution_status, record.execution_error = "failed", error
        _count_failure(record, error)
        return
    record.execution_status, record.failures = "completed", 0
    if not decision.fire:
        return
    event = FollowUp(
        idempotency_key=event_key(record.id, fire_at, target.id if target is not None else "program"),
        participant_id=target.id if target is not None else None,
        external_id=target.external_id if target is not None else None,
        event_data=automation_event_data(compiled.spec.event_name, compiled.spec.payload),
        event_timestamp=fire_at,
        due_at=None,
    )
    wake_ups = write_system_events(record.organisation_id, record.program_id, [event])
    for wake_up in wake_ups:
        enqueue_event(wake_up.event_id, delay_s=wake_up.delay_s)
    record.events_created = len(wake_ups)


def _advance(automation_id: str, now: datetime) -> int:
    """One batch of a fan-out; a batch that fails is recorded and tried again at the next pass."""
    try:
        with write_transaction():
            record = lock_automation(automation_id)
            if record is None or record.execution_status not in RUNNING:
                return 0
            _fan_out_batch(record, now)
    except EngineError as exc:
        _fail(automation_id, f"{exc.code}: {exc.message}", now)
    except Exception as exc:  # a database error: the batch rolled back whole; the next pass retries it
        log.exception("automation %s: a fan-out batch failed", automation_id)
        _fail(automation_id, f"{type(exc).__name__}: {exc}", now)
    return 1


def _fan_out_batch(record: AutomationRecord, now: datetime) -> None:
    compiled = compiled_of(record)
    fire_at = cast("datetime", record.execution_fire_at)
    batch = _participants_after(record.program_id, record.execution_cursor)
    if record.trigger_type == "participant_state":
        _advance_counts(record, batch, [], refresh_batch(record, compiled, batch, now), now)
        return
    needs_state = compiled.participant_filter is not None or compiled.guard_condition is not None
    program = program_state(record.program_id, {}) if needs_state else ProgramState()
    planned: list[FollowUp] = []
    errors: list[str] = []
    for participant in batch:
        state = participant_state(participant, record.program_id, {}) if needs_state else _bare(participant)
        decision = decide(compiled, state, program, fire_at)
        if decision.error is not None:
            errors.append(f"participant {participant.id}: {decision.error}")
        elif decision.fire:
            planned.append(_event_for(compiled, record, fire_at, participant))
    for wake_up in write_system_events(record.organisation_id, record.program_id, planned):
        enqueue_event(wake_up.event_id, delay_s=wake_up.delay_s)
    _advance_counts(record, batch, planned, errors, now)


def _advance_counts(
    record: AutomationRecord, batch: list[Participant], planned: list[FollowUp], errors: list[str], now: datetime
) -> None:
    """The batch's progress, in the row the batch's transaction saves."""
    record.participants_processed = (record.participants_processed or 0) + len(batch)
    record.events_created += len(planned)
    record.execution_errors += len(errors)
    if errors:
        record.last_error = errors[-1]
    if batch:
        record.execution_cursor = batch[-1].id
    if len(batch) < FANOUT_BATCH:
        _finish(record, now)
    record.updated_at = now
    record.save()


def _finish(record: AutomationRecord, now: datetime) -> None:
    """The fan-out reached the last participant: the firing completed, or failed when every
    participant's filter or guard errored."""
    record.execution_completed_at = now
    if record.execution_errors > 0 and record.execution_errors >= (record.participants_processed or 0):
        record.execution_status = "failed"
        record.execution_error = f"every filter or guard errored ({record.execution_errors}): {record.last_error}"
        _count_failure(record, record.execution_error)
        return
    record.execution_status = "completed"
    record.failures = 0


def _fail(automation_id: str, message: str, now: datetime) -> None:
    with write_transaction():
        record = lock_automation(automation_id)
        if record is None or record.execution_status not in RUNNING:
            return
        if _count_failure(record, message):
            record.execution_status = "failed"
            record.execution_error = message
            record.execution_completed_at = now
        record.updated_at = now
        record.save()


def _count_failure(record: AutomationRecord, message: str) -> bool:
    """One more consecutive failure; True (and a cron automation paused) once they reach
    `FAILURES_MAX`."""
    record.failures += 1
    record.last_error = message
    if record.failures < FAILURES_MAX:
        return False
    if record.trigger_type == "cron" and record.status == "active":
        record.status = "paused"
        record.last_error = f"paused after {record.failures} consecutive failures: {message}"
    return True


def _participants_after(program_id: str, cursor: str | None) -> list[Participant]:
    query = (
        Participant.select()
        .join(Enrolment, on=Enrolment.participant == Participant.id)
        .where(Enrolment.program == program_id)
    )
    if cursor is not None:
        query = query.where(Participant.id > cursor)
    return list(query.order_by(Participant.id).limit(FANOUT_BATCH))


def _bare(participant: Participant) -> EntityState:
    return EntityState(id=participant.id, external_id=participant.external_id, status=participant.status)


def _event_for(
    compiled: CompiledAutomation, record: AutomationRecord, fire_at: datetime, participant: Participant
) -> FollowUp:
    return FollowUp(
        idempotency_key=event_key(record.id, fire_at, participant.id),
        participant_id=participant.id,
        external_id=participant.external_id,
        event_data=automation_event_data(compiled.spec.event_name, compiled.spec.payload),
        event_timestamp=fire_at,
        due_at=None,
    )
