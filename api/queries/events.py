"""Events for the API: the list filters of `GET /v1/events`, the evaluation records (D31) and retry."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec
from peewee import SQL

from api.errors import Conflict, NotFound, field_error
from api.pagination import Page, paginate
from api.schemas.events import EventAccepted, EventOut, RetryResult, RuleErrorsOut, RuleEvaluationOut
from engine.model.vocabulary import EventStatus
from engine.queue import enqueue_event
from engine.store.db import utcnow, write_transaction
from engine.store.models import EventRecord, RuleEvaluation

SortBy = Literal["created_at", "event_timestamp", "status"]
# D31: rows a client sees by default; errors and timeouts only with include_skipped=true.
DEFAULT_STATUSES = ("SUCCESS", "SKIPPED")
SKIPPED_STATUSES = ("SKIPPED_ERROR", "SKIPPED_TIMEOUT")


class EventFilters(msgspec.Struct, kw_only=True):
    program_id: str | None = None
    status: str | None = None
    event_type: str | None = None
    participant_id: str | None = None
    external_id: str | None = None
    rule_id: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    event_from: datetime | None = None
    event_to: datetime | None = None
    # A participant's events: by id, or by its external_id for events the worker has not resolved yet.
    participant_external_id: str | None = None


def accepted(row: EventRecord) -> EventAccepted:
    return EventAccepted(
        id=row.id,
        program_id=row.program_id,
        participant_id=row.participant_id,
        external_id=row.external_id,
        idempotency_key=row.idempotency_key,
        event_timestamp=row.event_timestamp,
        status=row.status,
        recipient_id=row.recipient_id,
        recipient_external_id=row.recipient_external_id,
    )


def event_out(
    row: EventRecord, evaluations: list[RuleEvaluationOut] | None = None, rule_errors: RuleErrorsOut | None = None
) -> EventOut:
    return EventOut(
        id=row.id,
        program_id=row.program_id,
        participant_id=row.participant_id,
        external_id=row.external_id,
        recipient_id=row.recipient_id,
        recipient_external_id=row.recipient_external_id,
        idempotency_key=row.idempotency_key,
        event_type=row.event_type,
        event_data=row.event_data,
        event_timestamp=row.event_timestamp,
        status=row.status,
        error_message=row.error_message,
        attempts=row.attempts,
        received_at=row.created_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        processed_at=row.processed_at,
        rule_evaluations=evaluations,
        rule_errors=rule_errors,
    )


def _scoped(org_id: str):
    return EventRecord.select().where(EventRecord.organisation == org_id)


def get_event_row(org_id: str, event_id: str) -> EventRecord:
    row = _scoped(org_id).where(EventRecord.id == event_id).first()
    if row is None:
        raise NotFound("event not found")
    return row


def latest_evaluations(row: EventRecord) -> list[RuleEvaluation]:
    """The evaluation records of the event's latest attempt, in evaluation order."""
    records = list(RuleEvaluation.select().where(RuleEvaluation.event == row.id).order_by(RuleEvaluation.id))
    latest = max((r.attempt for r in records), default=0)
    return [r for r in records if r.attempt == latest]


def rule_errors_of(records: list[RuleEvaluation]) -> RuleErrorsOut | None:
    errored = [r.rule_name for r in records if r.status in SKIPPED_STATUSES]
    return RuleErrorsOut(count=len(errored), rules=errored) if errored else None


def evaluations_of(records: list[RuleEvaluation], include_skipped: bool) -> list[RuleEvaluationOut]:
    """The evaluations a client sees (D31), in evaluation order."""
    statuses = DEFAULT_STATUSES + (SKIPPED_STATUSES if include_skipped else ())
    return [
        RuleEvaluationOut(
            id=r.id,
            rule_id=r.rule_id,
            rule_name=r.rule_name,
            rule_history_id=r.rule_history_id,
            status=r.status,
            reason=r.reason,
            stopped_by_rule_id=r.stopped_by_rule_id,
            error_message=r.error_message,
            actions=r.actions or [],
            created_at=r.created_at,
        )
        for r in records
        if r.status in statuses
    ]


def list_events(
    org_id: str, filters: EventFilters, *, sort_by: SortBy, descending: bool, limit: int, cursor: str | None
) -> Page[EventOut]:
    query = _scoped(org_id)
    conditions = {
        EventRecord.program: filters.program_id,
        EventRecord.status: filters.status,
        EventRecord.event_type: filters.event_type,
        EventRecord.external_id: filters.external_id,
    }
    if filters.participant_id is not None and filters.participant_external_id is not None:
        query = query.where(
            (EventRecord.participant == filters.participant_id)
            | (EventRecord.participant.is_null() & (EventRecord.external_id == filters.participant_external_id))
        )
    elif filters.participant_id is not None:
        query = query.where(EventRecord.participant == filters.participant_id)
    for column, value in conditions.items():
        if value is not None:
            query = query.where(column == value)
    ranges = [
        (EventRecord.created_at, filters.created_from, filters.created_to),
        (EventRecord.event_timestamp, filters.event_from, filters.event_to),
    ]
    for column, low, high in ranges:
        if low is not None:
            query = query.where(column >= low)
        if high is not None:
            query = query.where(column <= high)
    if filters.rule_id is not None:
        matched = RuleEvaluation.select(RuleEvaluation.event).where(
            # the literal condition of the partial index `rule_evaluation_rule_success` (a bound
            # parameter would not let SQLite use it)
            (RuleEvaluation.rule_id == filters.rule_id) & SQL("status = 'SUCCESS'")
        )
        query = query.where(EventRecord.id.in_(matched))
    sort_column = {
        "created_at": EventRecord.created_at,
        "event_timestamp": EventRecord.event_timestamp,
        "status": EventRecord.status,
    }[sort_by]
    return paginate(
        query,
        keys=[sort_column, EventRecord.id],
        descending=descending,
        limit=limit,
        cursor=cursor,
        listing="events",
        render=event_out,
    )


def retry_event(org_id: str, event_id: str) -> RetryResult:
    """Re-queue a FAILED event with a fresh attempt budget (D13); any other status is a 409."""
    with write_transaction():
        row = get_event_row(org_id, event_id)
        if row.status != EventStatus.FAILED:
            raise Conflict(
                f"only FAILED events can be retried; this one is {row.status}", details={"status": row.status}
            )
        previous_error = row.error_message
        updated = (
            EventRecord.update(
                status=EventStatus.PENDING,
                attempts=0,
                error_code=None,
                error_message=None,
                next_attempt_at=None,
                processed_at=None,
                updated_at=utcnow(),
            )
            .where((EventRecord.id == row.id) & (EventRecord.status == EventStatus.FAILED))
            .execute()
        )
        if updated != 1:
            raise Conflict("the event changed status while being retried")
        enqueue_event(row.id)
    return RetryResult(
        event_id=row.id,
        message="Event queued for retry",
        previous_error=previous_error,
        previous_status=EventStatus.FAILED,
        status=EventStatus.PENDING,
    )


def check_range(name: str, low: datetime | None, high: datetime | None) -> None:
    if low is not None and high is not None and low > high:
        raise field_error(name, f"{name} range is empty: the start is after the end")
