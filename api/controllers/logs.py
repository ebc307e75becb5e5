"""`/v1/logs` and `/v1/usage`: the organisation's request logs, bodies redacted, and its daily
usage (A189). Both first write this process's waiting logs (`api/request_log.py`), so a caller
sees its own requests at once."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from api.auth import Principal
from api.db import with_connection
from api.errors import field_error, responses
from api.pagination import CursorParam, Page, SortDirParam
from api.queries.events import check_range
from api.queries.logs import LogFilters, LogSort, get_log, list_logs, usage
from api.request_log import RequestLogWriter
from api.schemas.common import TIMESTAMP_HELP, parse_timestamp
from api.schemas.logs import RequestLogOut, UsageOut

Moment = Annotated[str | None, QueryParameter(description=TIMESTAMP_HELP, max_length=64)]
Status = Annotated[int | None, QueryParameter(ge=100, le=599)]


def _flush(request: Request[Any, Any, Any]) -> None:
    writer = request.app.state.get("request_log_writer")
    if isinstance(writer, RequestLogWriter):
        writer.flush()


class LogController(Controller):
    path = "/v1"
    tags = ("logs",)

    @get("/logs", sync_to_thread=True, summary="List request logs")
    @with_connection
    def list_logs(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        limit: Annotated[int, QueryParameter(ge=1, le=100, description="Page size (1-100)")] = 50,
        cursor: CursorParam = None,
        method: Annotated[str | None, QueryParameter(pattern="^[A-Za-z]{1,10}$")] = None,
        route_pattern: Annotated[str | None, QueryParameter(max_length=255)] = None,
        request_id: Annotated[str | None, QueryParameter(pattern="^(req_)?[a-zA-Z0-9]{1,40}$")] = None,
        auth_type: Annotated[Literal["api_key", "jwt"] | None, QueryParameter()] = None,
        status_min: Status = None,
        status_max: Status = None,
        from_: Annotated[str | None, QueryParameter(name="from", description=TIMESTAMP_HELP, max_length=64)] = None,
        to: Moment = None,
        sort_by: Annotated[LogSort, QueryParameter()] = "created_at",
        sort_dir: SortDirParam = "desc",
    ) -> Page[RequestLogOut]:
        """Newest first by default; `route_pattern` as the router names it
        (`/v1/participants/{participant_id}`); `request_id` with or without `req_`; `from` and
        `to` inclusive. The bodies are in the detail."""
        start, end = parse_timestamp("from", from_), parse_timestamp("to", to)
        check_range("from", start, end)
        if status_min is not None and status_max is not None and status_min > status_max:
            raise field_error("status_min", "status_min is above status_max")
        _flush(request)
        filters = LogFilters(method, route_pattern, request_id, auth_type, status_min, status_max, start, end)
        return list_logs(
            principal.organisation_id,
            filters,
            sort_by=sort_by,
            descending=sort_dir == "desc",
            limit=limit,
            cursor=cursor,
        )

    @get("/logs/{log_id:str}", sync_to_thread=True, summary="Get a request log", responses=responses(404))
    @with_connection
    def get_log(
        self, request: Request[Any, Any, Any], log_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> RequestLogOut:
        """By id or by `request_id` (`req_...`), with the IP address, user agent and both bodies,
        secrets and API keys redacted."""
        _flush(request)
        return get_log(principal.organisation_id, log_id)

    @get("/usage", sync_to_thread=True, summary="Daily usage")
    @with_connection
    def usage(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        from_: Annotated[str | None, QueryParameter(name="from", description=TIMESTAMP_HELP, max_length=64)] = None,
        to: Moment = None,
    ) -> UsageOut:
        """Per UTC day: requests, errors (status 400 and above) and the average latency; `from`
        and `to` inclusive, by default the last 30 days."""
        start, end = parse_timestamp("from", from_), parse_timestamp("to", to)
        check_range("from", start, end)
        _flush(request)
        return usage(principal.organisation_id, start, end)
