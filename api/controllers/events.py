"""`/v1/events`: ingest (single and batch), list, get with rule evaluations, retry."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Principal
from api.db import with_connection
from api.errors import ApiError, responses
from api.event_validation import flagged
from api.ingest import ingest_event
from api.pagination import LIMIT_DEFAULT, CursorParam, IdFilter, LimitParam, Page, SortDirParam
from api.queries.events import (
    EventFilters,
    SortBy,
    accepted,
    check_range,
    evaluations_of,
    event_out,
    get_event_row,
    latest_evaluations,
    list_events,
    retry_event,
    rule_errors_of,
)
from api.schemas.common import TIMESTAMP_HELP, parse_timestamp
from api.schemas.events import (
    BatchItemResult,
    BatchResult,
    EventAccepted,
    EventBatchIngest,
    EventIngest,
    EventOut,
    EventStatus,
    RetryResult,
)
from engine.errors import EngineError


def _item_error(index: int, exc: Exception) -> BatchItemResult:
    if isinstance(exc, msgspec.ValidationError):
        return BatchItemResult(index=index, status="error", error=str(exc), code="bad_request")
    if isinstance(exc, ApiError):
        return BatchItemResult(
            index=index, status="error", error=exc.message, code=exc.code, details=exc.details or None
        )
    assert isinstance(exc, EngineError)
    return BatchItemResult(index=index, status="error", error=exc.message, code=exc.code.lower())


class EventController(Controller):
    path = "/v1/events"
    tags = ("events",)

    @post("/", status_code=202, sync_to_thread=True, summary="Ingest an event", responses=responses(404, 409))
    @with_connection
    def ingest(self, data: JSONBody[EventIngest], principal: NamedDependency[Principal]) -> EventAccepted:
        """Store the event durably and queue it; answers 202 with status PENDING. A replay of the
        same idempotency_key and payload answers the original event; a different payload, 409."""
        row, _ = ingest_event(principal, data)
        return accepted(row)

    @post("/batch", status_code=202, sync_to_thread=True, summary="Ingest 1-100 events")
    @with_connection
    def ingest_batch(self, data: JSONBody[EventBatchIngest], principal: NamedDependency[Principal]) -> BatchResult:
        """Each item is validated and stored independently; results are in input order."""
        results: list[BatchItemResult] = []
        for index, item in enumerate(data.events):
            try:
                event = msgspec.convert(item, EventIngest)
                row, _ = ingest_event(principal, event)
                results.append(BatchItemResult(index=index, status="accepted", event=accepted(row)))
            except (msgspec.ValidationError, ApiError, EngineError) as exc:
                results.append(_item_error(index, exc))
        ok = sum(1 for r in results if r.status == "accepted")
        return BatchResult(total=len(results), success_count=ok, error_count=len(results) - ok, results=results)

    @get("/", sync_to_thread=True, summary="List events")
    @with_connection
    def list_events(
        self,
        principal: NamedDependency[Principal],
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        program_id: IdFilter = None,
        status: Annotated[EventStatus | None, QueryParameter()] = None,
        event_type: Annotated[str | None, QueryParameter(pattern="^(EXTERNAL|SYSTEM)$")] = None,
        participant_id: IdFilter = None,
        external_id: Annotated[str | None, QueryParameter()] = None,
        rule_id: IdFilter = None,
        from_: Annotated[str | None, QueryParameter(name="from", description=TIMESTAMP_HELP)] = None,
        to: Annotated[str | None, QueryParameter(description=TIMESTAMP_HELP)] = None,
        event_from: Annotated[str | None, QueryParameter(description=TIMESTAMP_HELP)] = None,
        event_to: Annotated[str | None, QueryParameter(description=TIMESTAMP_HELP)] = None,
        sort_by: Annotated[SortBy, QueryParameter()] = "created_at",
        sort_dir: SortDirParam = "desc",
    ) -> Page[EventOut]:
        """Newest first by default; `from`/`to` filter created_at, `event_from`/`event_to` the
        client's event_timestamp."""
        created = parse_timestamp("from", from_), parse_timestamp("to", to)
        happened = parse_timestamp("event_from", event_from), parse_timestamp("event_to", event_to)
        check_range("from", *created)
        check_range("event_from", *happened)
        filters = EventFilters(
            program_id=program_id,
            status=status,
            event_type=event_type,
            participant_id=participant_id,
            external_id=external_id,
            rule_id=rule_id,
            created_from=created[0],
            created_to=created[1],
            event_from=happened[0],
            event_to=happened[1],
        )
        return list_events(
            principal.organisation_id,
            filters,
            sort_by=sort_by,
            descending=sort_dir == "desc",
            limit=limit,
            cursor=cursor,
        )

    @get("/{event_id:str}", sync_to_thread=True, summary="Get an event", responses=responses(404))
    @with_connection
    def get_event(
        self,
        event_id: FromPath[str],
        principal: NamedDependency[Principal],
        include_skipped: Annotated[bool, QueryParameter()] = False,
    ) -> EventOut:
        """The event with its rule evaluations (SKIPPED_ERROR / SKIPPED_TIMEOUT rows only with
        include_skipped=true). `rule_errors` counts and names the rules that errored, always."""
        row = get_event_row(principal.organisation_id, event_id)
        records = latest_evaluations(row)
        out = event_out(row, evaluations_of(records, include_skipped), rule_errors_of(records))
        out.event_data_problems = flagged(row.program_id, row.event_data)
        return out

    @post(
        "/{event_id:str}/retry",
        status_code=202,
        sync_to_thread=True,
        summary="Retry a FAILED event",
        responses=responses(404, 409),
    )
    @with_connection
    def retry(self, event_id: FromPath[str], principal: NamedDependency[Principal]) -> RetryResult:
        return retry_event(principal.organisation_id, event_id)
