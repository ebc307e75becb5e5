"""Request and response bodies of `/v1/events`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from api.pagination import UUID_PATTERN
from api.schemas.common import Request, Response
from engine.model.instants import Instant

IdempotencyKey = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
ExternalId = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
EventStatus = Literal["PENDING", "PROCESSING", "COMPLETED", "FAILED"]


# Ids are UUIDs (engine.store.db.new_id): anything else is a 400 naming the field, not a 404.
Uuid = Annotated[str, msgspec.Meta(pattern=UUID_PATTERN)]


class EventIngest(Request):
    """One event to ingest. Exactly one of `external_id` / `participant_id`.

    Example: `{"program_id": "...", "external_id": "user_123", "idempotency_key": "order-9",
    "event_timestamp": "2026-01-01T12:00:00Z", "event_data": {"type": "purchase", "amount": 4.5}}`
    """

    program_id: Uuid
    idempotency_key: IdempotencyKey
    event_timestamp: Instant
    event_data: dict[str, Any]
    external_id: ExternalId | None = None
    participant_id: Uuid | None = None
    recipient_id: Uuid | None = None
    recipient_external_id: ExternalId | None = None


class EventBatchIngest(Request):
    events: Annotated[list[dict[str, Any]], msgspec.Meta(min_length=1, max_length=100)]


class EventAccepted(Response):
    """The 202 answer of an ingest (and of its idempotent replay)."""

    id: str
    program_id: str
    participant_id: str | None
    external_id: str | None
    idempotency_key: str
    event_timestamp: datetime
    status: str
    recipient_id: str | None = None
    recipient_external_id: str | None = None


class BatchItemResult(Response):
    index: int
    status: Literal["accepted", "error"]
    event: EventAccepted | None = None
    error: str | None = None
    code: str | None = None
    details: dict[str, Any] | None = None


class BatchResult(Response):
    total: int
    success_count: int
    error_count: int
    results: list[BatchItemResult]


class RuleErrorsOut(Response):
    """The rules of the event's latest attempt whose condition failed (SKIPPED_ERROR) or ran out
    of budget (SKIPPED_TIMEOUT): shown by default, so an event that completed with fewer points
    than its rules would give says why without `include_skipped=true` (A88)."""

    count: int
    rules: list[str]


class RuleEvaluationOut(Response):
    id: str
    rule_id: str | None
    rule_name: str
    rule_history_id: str | None
    status: str
    reason: str | None = None
    stopped_by_rule_id: str | None = None
    error_message: str | None = None
    actions: list[dict[str, Any]] = msgspec.field(default_factory=list)
    created_at: datetime | None = None


class EventOut(Response):
    id: str
    program_id: str
    participant_id: str | None
    external_id: str | None
    recipient_id: str | None
    recipient_external_id: str | None
    idempotency_key: str
    event_type: str
    event_data: dict[str, Any]
    event_timestamp: datetime
    status: str
    error_message: str | None
    attempts: int
    received_at: datetime
    created_at: datetime
    updated_at: datetime
    processed_at: datetime | None
    rule_evaluations: list[RuleEvaluationOut] | None = None
    rule_errors: RuleErrorsOut | None = None  # GET /v1/events/{id} only; null when no rule errored
    # GET /v1/events/{id} of a program with event_validation FLAG: what does not fit the declared type
    event_data_problems: list[str] | None = None


class RetryResult(Response):
    event_id: str
    message: str
    previous_error: str | None
    previous_status: str
    status: str
