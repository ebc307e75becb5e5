"""Follow-up events: carrying out SCHEDULE_EVENT and BROADCAST actions (A57).

Both produce SYSTEM events (`event_type = "SYSTEM"`, `event_data = {**payload, "type":
event_name}`) that go through the same rule engine as ingested ones. `post_event_effects` writes
them in the transaction that posts the originating event's effects: they commit with those
effects or not at all, so a FAILED or rolled-back event schedules nothing.

* SCHEDULE_EVENT: one event for the action's target participant, `event_timestamp` = the
  originating event's timestamp + `delay`, due (`next_attempt_at`, the column that already gates
  retries) at the originating event's receive time + `delay`, with a delayed wake-up; the
  reconciler wakes it too once due, should that wake-up be lost.
* BROADCAST: one event per participant enrolled in the program, due at once; more than
  `BROADCAST_RECIPIENTS_MAX` enrolments fail the originating event (`limit_broadcast_recipients`).

Each scheduled follow-up is also an automation row (`source: rule_action`, A222), written with
its event: a one_time automation of scope program for the target participant, named after the
event's key, `trigger_at` the follow-up's due time, `processed_at` the time the event was
written, `event_id` the event. It is read-only: the event exists already, nothing is left to fire.

Idempotency keys are derived from the originating event, the rule and the action's index
(`schedule:{event_id}:{rule}:{index}`, `broadcast:{event_id}:{rule}:{index}:{participant_id}`),
so with the unique `(program, idempotency_key)` index a replayed or retried event never creates
a follow-up twice: keys already present are skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import msgspec

from engine.errors import EngineError, LimitExceeded
from engine.limits import BROADCAST_RECIPIENTS_MAX
from engine.model.automation import Trigger
from engine.model.durations import parse_duration
from engine.model.result import EvaluationResult, ResolvedAction
from engine.model.vocabulary import FOLLOWUP_ACTIONS, EventStatus
from engine.store.db import new_id, utcnow
from engine.store.models import AutomationRecord, Enrolment, EventRecord, Participant

SYSTEM_EVENT = "SYSTEM"
KEY_LENGTH_MAX = 255  # event.idempotency_key
_CHUNK = 500  # rows per INSERT / keys per lookup: well inside SQLite's bound on bound parameters


@dataclass(frozen=True)
class FollowUp:
    """One SYSTEM event to create: who it is for, its data, when it happened and when it is due."""

    idempotency_key: str
    participant_id: str | None
    external_id: str | None
    event_data: dict[str, Any]
    event_timestamp: datetime
    due_at: datetime | None  # None: due at once


@dataclass(frozen=True)
class WakeUp:
    """A follow-up event created in this transaction and when its worker should wake up."""

    event_id: str
    delay_s: float


def write_followups(event: EventRecord, result: EvaluationResult) -> list[WakeUp]:
    """Create the follow-up events of `result`'s SCHEDULE_EVENT and BROADCAST actions (none for
    keys that already exist); returns their wake-ups, which the caller enqueues in the same
    transaction (the reconciler wakes any that is lost).

    `post_event_effects` calls it inside the transaction that posts `event`'s effects.

    >>> write_followups(event, result)   # a rule with SCHEDULE_EVENT delay "24h"
    [WakeUp(event_id='01J...', delay_s=86400.0)]
    """
    planned: list[FollowUp] = []
    scheduled: dict[str, ResolvedAction] = {}  # by the follow-up's key
    for action in result.actions:
        if action.status != "APPLIED" or action.type not in FOLLOWUP_ACTIONS:
            continue
        if action.type == "SCHEDULE_EVENT":
            planned.append(_scheduled(event, action))
            scheduled[planned[-1].idempotency_key] = action
        else:
            planned.extend(_broadcast(event, action))
    if not planned:
        return []
    new = _new_only(event.program_id, planned)
    wake_ups = _insert(event.organisation_id, event.program_id, new)
    for followup, wake_up in zip(new, wake_ups, strict=True):
        if followup.idempotency_key in scheduled:
            _record_scheduled(event, scheduled[followup.idempotency_key], followup, wake_up.event_id)
    return wake_ups


def write_system_events(organisation_id: str, program_id: str, planned: list[FollowUp]) -> list[WakeUp]:
    """Create the SYSTEM events `planned` whose keys the program does not hold yet (follow-ups,
    automation firings); returns their wake-ups for the caller to enqueue in its transaction."""
    if not planned:
        return []
    return _insert(organisation_id, program_id, _new_only(program_id, planned))


def system_event_data(action: ResolvedAction) -> dict[str, Any]:
    """The data of a follow-up: the action's payload with `type` set to its event name (the name
    wins over a payload key `type`, so rules can always match on `event.type`)."""
    return {**(action.payload or {}), "type": action.event_name}


def _scheduled(event: EventRecord, action: ResolvedAction) -> FollowUp:
    delay = parse_duration(action.delay or "")
    if delay < timedelta(0):
        raise EngineError(
            f"rule {action.rule!r}: SCHEDULE_EVENT delay {action.delay!r} is negative",
            code="invalid_delay",
            rule=action.rule,
        )
    participant_id, external_id = _target_participant(event, action)
    return FollowUp(
        idempotency_key=_key("schedule", event.id, action.rule, action.index),
        participant_id=participant_id,
        external_id=external_id,
        event_data=system_event_data(action),
        event_timestamp=event.event_timestamp + delay,
        due_at=event.created_at + delay,
    )


def _target_participant(event: EventRecord, action: ResolvedAction) -> tuple[str, str | None]:
    """(participant id, external id) of the action's target, which must be a participant of the
    organisation (storage has already refused an unknown one when posting the effects, with the
    same code)."""
    target = action.target
    if target.type != "PARTICIPANT":
        raise EngineError(
            f"rule {action.rule!r}: SCHEDULE_EVENT needs a participant target, not {target.type}",
            code="invalid_target",
            rule=action.rule,
        )
    if target.role is not None and target.id is not None:  # the event's participant or recipient
        return target.id, target.external_id
    column, value = (
        (Participant.id, target.id) if target.id is not None else (Participant.external_id, target.external_id)
    )
    found = (
        Participant.select(Participant.id, Participant.external_id)
        .where((Participant.organisation == event.organisation_id) & (column == value))
        .first()
    )
    if found is None:
        raise EngineError(
            f"rule {action.rule!r}: SCHEDULE_EVENT target participant {value!r} not found",
            code="unknown_participant",
            rule=action.rule,
        )
    return found.id, found.external_id


def _record_scheduled(event: EventRecord, action: ResolvedAction, followup: FollowUp, event_id: str) -> None:
    """The automation row a scheduled follow-up is listed as (A222)."""
    now = utcnow()
    due_at = followup.due_at or now
    AutomationRecord.insert(
        id=new_id(),
        organisation=event.organisation_id,
        program=event.program_id,
        name=followup.idempotency_key,
        description=f"SCHEDULE_EVENT of rule {action.rule!r} on event {event.id}",
        event_name=action.event_name or "",
        payload=action.payload or None,
        scope="program",
        trigger=msgspec.to_builtins(Trigger(type="one_time", trigger_at=due_at.astimezone(UTC))),
        trigger_type="one_time",
        source="rule_action",
        participant_id=followup.participant_id,
        event_id=event_id,
        last_run_at=due_at,
        processed_at=now,
        execution_status="completed",
        created_at=now,
        updated_at=now,
    ).on_conflict_ignore().execute()  # a live automation of that name already: the event alone stands


def _broadcast(event: EventRecord, action: ResolvedAction) -> list[FollowUp]:
    # (id, external id) rows: `.tuples()` yields tuples, which peewee's stubs type as models
    enrolled = cast(
        "list[tuple[str, str]]",
        list(
            Participant.select(Participant.id, Participant.external_id)
            .join(Enrolment, on=Enrolment.participant == Participant.id)
            .where(Enrolment.program == event.program_id)
            .order_by(Participant.id)
            .limit(BROADCAST_RECIPIENTS_MAX + 1)
            .tuples()
        ),
    )
    if len(enrolled) > BROADCAST_RECIPIENTS_MAX:
        raise LimitExceeded(
            f"rule {action.rule!r}: BROADCAST would reach more than {BROADCAST_RECIPIENTS_MAX} participants",
            code="limit_broadcast_recipients",
            rule=action.rule,
        )
    data = system_event_data(action)
    return [
        FollowUp(
            idempotency_key=_key("broadcast", event.id, action.rule, action.index, participant_id),
            participant_id=participant_id,
            external_id=external_id,
            event_data=data,
            event_timestamp=event.event_timestamp,
            due_at=None,
        )
        for participant_id, external_id in enrolled
    ]


def _key(kind: str, event_id: str, rule: str, index: int, *rest: str) -> str:
    """`kind:event:rule:index[:participant]`; a rule name too long for the 255-character key
    column is replaced by its SHA-256 (still deterministic, still one key per action)."""
    key = ":".join((kind, event_id, rule, str(index), *rest))
    if len(key) <= KEY_LENGTH_MAX:
        return key
    return ":".join((kind, event_id, hashlib.sha256(rule.encode()).hexdigest(), str(index), *rest))


def _new_only(program_id: str, planned: list[FollowUp]) -> list[FollowUp]:
    """Drop follow-ups whose key is already taken in the program (a replay of the originating
    event); the unique index stays the last word should one slip through."""
    taken: set[str] = set()
    keys = [followup.idempotency_key for followup in planned]
    for chunk in _chunks(keys):
        query = EventRecord.select(EventRecord.idempotency_key).where(
            (EventRecord.program == program_id) & EventRecord.idempotency_key.in_(chunk)
        )
        taken.update(key for (key,) in cast("Iterable[tuple[str]]", query.tuples()))
    return [followup for followup in planned if followup.idempotency_key not in taken]


def _insert(organisation_id: str, program_id: str, followups: list[FollowUp]) -> list[WakeUp]:
    now = utcnow()
    rows = [_row(organisation_id, program_id, followup, now) for followup in followups]
    for chunk in _chunks(rows):
        EventRecord.insert_many(chunk).execute()
    return [
        WakeUp(row["id"], max(0.0, (followup.due_at - now).total_seconds()) if followup.due_at is not None else 0.0)
        for row, followup in zip(rows, followups, strict=True)
    ]


def _row(organisation_id: str, program_id: str, followup: FollowUp, now: datetime) -> dict[str, Any]:
    return {
        "id": new_id(),
        "organisation": organisation_id,
        "program": program_id,
        "participant": followup.participant_id,
        "external_id": followup.external_id,
        "idempotency_key": followup.idempotency_key,
        "payload_hash": _payload_hash(program_id, followup),
        "event_data": followup.event_data,
        "event_timestamp": followup.event_timestamp,
        "event_type": SYSTEM_EVENT,
        "status": EventStatus.PENDING,
        "attempts": 0,
        # Due later: the claim and the reconciler both read COALESCE(next_attempt_at, created_at).
        "next_attempt_at": followup.due_at if followup.due_at is not None and followup.due_at > now else None,
        "created_at": now,
        "updated_at": now,
    }


def _payload_hash(program_id: str, followup: FollowUp) -> str:
    """The same digest ingestion stores (SHA-256 of the canonical request), so the row reads like
    any other event's."""
    payload: dict[str, Any] = {
        "program_id": program_id,
        "event_timestamp": followup.event_timestamp.isoformat(),
        "event_data": followup.event_data,
    }
    for name, value in (("participant_id", followup.participant_id), ("external_id", followup.external_id)):
        if value is not None:
            payload[name] = value
    return hashlib.sha256(msgspec.json.encode(payload, order="sorted")).hexdigest()


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
