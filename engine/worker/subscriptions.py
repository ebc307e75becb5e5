"""participant_state automations (A149): participants subscribed by the automation's filter, and
each subscription fired on the participant's own schedule, exactly once per occurrence.

    applied = fire_due_subscriptions(now, limit=500)

Subscribing is a fan-out (`engine.worker.automations`): every `REFRESH_EVERY`, or when asked
(`refresh-subscriptions`), the automation's batches run `participant_filter` on each enrolled
participant (`refresh_batch`): a chosen participant is subscribed, or its subscription re-timed
(its attribute may have changed, its latest event moved); one no longer chosen has its active
subscription cancelled.

Firing: each pass takes the active subscriptions due at `now` of active automations, up to
`BATCH` per transaction, locks them and reads them again; it recomputes the occurrence from the
participant's current state (`engine.evaluator.subscriptions`), runs the guard at that time, and
writes the event (key `automation:{automation}:{occurrence}:{participant}`) with the
subscription's new `next_trigger_at`, in the same transaction. A THRESHOLD subscription is
checked when an event changes its counter, in that event's transaction (`check_thresholds`,
A224), so a participant who crosses it gets its event right after the event that crossed it;
every `THRESHOLD_CHECK_EVERY` as well, which catches counters changed by other means (the
state API, a counter's reset). A guard that errors is retried at the next check;
`RETRIES_MAX` errors in a row fail the subscription with `last_error`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec

from engine.evaluator.automations import decide
from engine.evaluator.subscriptions import next_trigger, threshold_fires
from engine.model.automation import IntervalConfig, ThresholdConfig, automation_event_data
from engine.model.result import StateChange
from engine.model.state import EntityState, ProgramState
from engine.queue import enqueue_event
from engine.rules.automations import CompiledAutomation
from engine.store import statements
from engine.store.automations import compiled_of, event_key
from engine.store.db import write_transaction
from engine.store.followups import SYSTEM_EVENT, FollowUp, write_system_events
from engine.store.models import AutomationRecord, AutomationSubscription, EventRecord, Participant
from engine.store.owner_state import participant_state, program_state

REFRESH_EVERY = timedelta(hours=24)
THRESHOLD_CHECK_EVERY = timedelta(minutes=15)
RETRY_AFTER = timedelta(minutes=15)
RETRIES_MAX = 3
BATCH = 500


def refresh_batch(
    record: AutomationRecord, compiled: CompiledAutomation, batch: list[Participant], now: datetime
) -> list[str]:
    """Subscribe the batch's participants the filter chooses, re-time their subscriptions, cancel
    those of participants it no longer chooses; returns the filter's errors."""
    existing = {
        row.participant_id: row
        for row in AutomationSubscription.select().where(
            (AutomationSubscription.automation == record.id)
            & AutomationSubscription.participant.in_([p.id for p in batch])
        )
    }
    program = program_state(record.program_id, {})
    errors: list[str] = []
    for participant in batch:
        state = participant_state(participant, record.program_id, {})
        decision = decide(compiled, state, program, now, with_guard=False)
        current = existing.get(participant.id)
        if decision.error is not None:
            errors.append(f"participant {participant.id}: {decision.error}")
            continue
        if not decision.fire:
            if current is not None and current.status == "active":
                current.status, current.next_trigger_at, current.updated_at = "cancelled", None, now
                current.save()
            continue
        is_new = current is None
        if current is None:
            current = AutomationSubscription(
                automation=record.id, participant=participant.id, anchor_at=now, created_at=now
            )
        elif current.status != "active":
            current.anchor_at, current.armed, current.retry_count = now, True, 0
        current.status = "active"
        _retime(compiled, current, state, record.program_id, now)
        current.updated_at = now
        current.save(force_insert=is_new)
    return errors


def check_thresholds(event: EventRecord, changes: list[StateChange], now: datetime) -> int:
    """Check, inside the transaction that processed `event`, the THRESHOLD subscriptions watching
    a participant counter its `changes` changed; returns how many were checked. Each is locked
    and fired as a due one is (`_fire`): its `armed` flag, read again under the lock, keeps a
    crossing to one event whoever checks it."""
    changed: dict[str, set[str]] = {}  # counter key -> participant ids
    for change in changes:
        if change.state_type == "counter" and change.target.type == "PARTICIPANT":
            participant_id = _participant_of(event, change)
            if participant_id is not None:
                changed.setdefault(change.key, set()).add(participant_id)
    if not changed:
        return 0
    # One statement of cached SQL text: this runs for every event that changes a counter.
    watching = [
        automation_id
        for automation_id, trigger in statements.rows(
            "SELECT id, \"trigger\" FROM automation WHERE program_id = {p} AND status = 'active' "
            "AND trigger_type = 'participant_state'",
            [event.program_id],
            (str, _json),
        )
        if trigger.get("schedule_type") == "THRESHOLD"
        and (trigger.get("schedule_config") or {}).get("counter") in changed
    ]
    if not watching:
        return 0
    people = sorted(set().union(*changed.values()))
    ids = [
        row.id
        for row in AutomationSubscription.select(AutomationSubscription.id).where(
            AutomationSubscription.automation.in_(watching)
            & AutomationSubscription.participant.in_(people)
            & (AutomationSubscription.status == "active")
        )
    ]
    return _fire(ids, now, due_only=False) if ids else 0


def _json(value: Any) -> dict[str, Any]:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


def _participant_of(event: EventRecord, change: StateChange) -> str | None:
    """The id of the participant a state change was made to."""
    target = change.target
    if target.role == "participant":
        return event.participant_id
    if target.role == "recipient":
        return event.recipient_id
    if target.id is not None:
        return target.id
    found = Participant.get_or_none(
        (Participant.organisation == event.organisation_id) & (Participant.external_id == target.external_id)
    )
    return found.id if found is not None else None


def fire_due_subscriptions(now: datetime, limit: int = 500) -> int:
    """Fire the subscriptions due at `now`, at most `limit`; returns how many were taken."""
    taken = 0
    while taken < limit:
        due = _due(now, min(BATCH, limit - taken))
        if not due:
            break
        with write_transaction():
            taken += _fire(due, now)
    return taken


def count_due_subscriptions(now: datetime) -> int:
    return _due_query(now).count()


def _due_query(now: datetime):
    return (
        AutomationSubscription.select(AutomationSubscription.id)
        .join(AutomationRecord, on=AutomationSubscription.automation == AutomationRecord.id)
        .where(
            (AutomationSubscription.status == "active")
            & AutomationSubscription.next_trigger_at.is_null(False)
            & (AutomationSubscription.next_trigger_at <= now)
            & (AutomationRecord.status == "active")
        )
    )


def _due(now: datetime, limit: int) -> list[str]:
    query = _due_query(now).order_by(AutomationSubscription.next_trigger_at, AutomationSubscription.id).limit(limit)
    return [row.id for row in query]


def _fire(ids: list[str], now: datetime, *, due_only: bool = True) -> int:
    """In the caller's transaction: the subscriptions locked, read again, fired or re-timed (with
    `due_only`, only those still due: another worker may have fired them since they were found)."""
    locked = statements.fetch(
        AutomationSubscription, f"id IN ({statements.marks(len(ids))}) ORDER BY id", ids, for_update=True
    )
    rows = [
        row
        for row in locked
        if row.status == "active" and (not due_only or (row.next_trigger_at and row.next_trigger_at <= now))
    ]
    automations: dict[str, tuple[AutomationRecord, CompiledAutomation, ProgramState]] = {}
    planned: dict[tuple[str, str], list[FollowUp]] = {}  # by (organisation, program)
    for subscription in rows:
        if subscription.automation_id not in automations:
            record = AutomationRecord.get_by_id(subscription.automation_id)
            automations[record.id] = (record, compiled_of(record), program_state(record.program_id, {}))
        record, compiled, program = automations[subscription.automation_id]
        if record.status != "active":
            continue
        participant = Participant.get_by_id(subscription.participant_id)
        state = participant_state(participant, record.program_id, {})
        occurrence = _occurrence(compiled, subscription, state, record.program_id, now)
        if occurrence is not None:
            decision = decide(compiled, state, program, occurrence, with_filter=False)
            if decision.error is not None:
                _retry(subscription, decision.error, now)
                subscription.save()
                continue
            if decision.fire:
                event = _event(compiled, record, occurrence, participant)
                planned.setdefault((record.organisation_id, record.program_id), []).append(event)
                subscription.trigger_count += 1
            subscription.last_triggered_at = occurrence
            subscription.retry_count, subscription.last_error = 0, None
        _retime(compiled, subscription, state, record.program_id, now, checked=True)
        subscription.updated_at = now
        subscription.save()
    for (organisation_id, program_id), followups in planned.items():
        for wake_up in write_system_events(organisation_id, program_id, followups):
            enqueue_event(wake_up.event_id, delay_s=wake_up.delay_s)
    return len(ids)


def _occurrence(
    compiled: CompiledAutomation,
    subscription: AutomationSubscription,
    state: EntityState,
    program_id: str,
    now: datetime,
) -> datetime | None:
    """The occurrence due now, or None (not yet, or no more: then the subscription is re-timed)."""
    if isinstance(compiled.schedule, ThresholdConfig):
        fires, subscription.armed = threshold_fires(compiled, state, armed=subscription.armed)
        return now if fires else None
    _refresh_anchor(compiled, subscription, program_id)
    due = next_trigger(compiled, state, anchor=subscription.anchor_at, last_triggered_at=subscription.last_triggered_at)
    return due if due is not None and due <= now else None


def _retime(
    compiled: CompiledAutomation,
    subscription: AutomationSubscription,
    state: EntityState,
    program_id: str,
    now: datetime,
    *,
    checked: bool = False,
) -> None:
    """The subscription's next firing from its schedule and the participant's state; a THRESHOLD
    subscription is checked at the next pass once subscribed, then every THRESHOLD_CHECK_EVERY."""
    if isinstance(compiled.schedule, ThresholdConfig):
        if checked or subscription.next_trigger_at is None:
            subscription.next_trigger_at = now + THRESHOLD_CHECK_EVERY if checked else now
        return
    _refresh_anchor(compiled, subscription, program_id)
    following = next_trigger(
        compiled, state, anchor=subscription.anchor_at, last_triggered_at=subscription.last_triggered_at
    )
    subscription.next_trigger_at = following
    if following is None and subscription.last_triggered_at is not None:
        subscription.status = "completed"


def _refresh_anchor(compiled: CompiledAutomation, subscription: AutomationSubscription, program_id: str) -> None:
    """For INTERVAL `since: last_event`: the participant's latest event of its own (automations'
    SYSTEM events are not activity), when later than the subscription's start."""
    schedule = compiled.schedule
    if not isinstance(schedule, IntervalConfig) or schedule.since != "last_event":
        return
    latest = (
        EventRecord.select(EventRecord.event_timestamp)
        .where(
            (EventRecord.participant == subscription.participant_id)
            & (EventRecord.program == program_id)
            & (EventRecord.event_type != SYSTEM_EVENT)
        )
        .order_by(EventRecord.event_timestamp.desc())
        .first()
    )
    if latest is not None:
        subscription.anchor_at = max(subscription.anchor_at, latest.event_timestamp)


def _retry(subscription: AutomationSubscription, error: str, now: datetime) -> None:
    subscription.retry_count += 1
    subscription.last_error = error
    if subscription.retry_count >= RETRIES_MAX:
        subscription.status, subscription.next_trigger_at = "failed", None
    else:
        subscription.next_trigger_at = now + RETRY_AFTER


def _event(
    compiled: CompiledAutomation, record: AutomationRecord, occurrence: datetime, participant: Participant
) -> FollowUp:
    return FollowUp(
        idempotency_key=event_key(record.id, occurrence, participant.id),
        participant_id=participant.id,
        external_id=participant.external_id,
        event_data=automation_event_data(compiled.spec.event_name, compiled.spec.payload),
        event_timestamp=occurrence,
        due_at=None,
    )
