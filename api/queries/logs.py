"""Request logs and usage of `/v1/logs` and `/v1/usage` (A189): filters turned into queries over
`request_log`, answers as Structs. Logs are listed newest first by default; a time range is an id
range (UUIDv7 ids carry the time), so it reads the (organisation, id) index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from api.errors import NotFound
from api.pagination import Page, paginate
from api.schemas.logs import RequestLogOut, UsageDay, UsageOut
from engine.store.db import utcnow
from engine.store.models import RequestLog
from engine.store.reports.rollup import id_floor
from engine.store.request_logs import daily_usage

LogSort = Literal["created_at", "duration_ms", "status_code"]
USAGE_DAYS = 30


@dataclass(frozen=True)
class LogFilters:
    method: str | None = None
    route_pattern: str | None = None
    request_id: str | None = None
    auth_type: str | None = None
    status_min: int | None = None
    status_max: int | None = None
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # inclusive


def log_out(row: RequestLog, *, detail: bool = False) -> RequestLogOut:
    out = RequestLogOut(
        id=row.id,
        request_id=row.request_id,
        method=row.method,
        path=row.path,
        route_pattern=row.route_pattern,
        status_code=row.status_code,
        duration_ms=row.duration_ms,
        auth_type=row.auth_type,
        error_code=row.error_code,
        created_at=row.created_at,
        api_key_id=row.api_key_id,
    )
    if detail:
        out.ip_address, out.user_agent = row.ip_address, row.user_agent
        out.request_body, out.response_body = row.request_body, row.response_body
    return out


def list_logs(
    org_id: str, filters: LogFilters, *, sort_by: LogSort, descending: bool, limit: int, cursor: str | None
) -> Page[RequestLogOut]:
    query = RequestLog.select(
        *(f for f in RequestLog._meta.sorted_fields if f.name not in ("request_body", "response_body"))
    ).where(RequestLog.organisation == org_id)
    if filters.method is not None:
        query = query.where(RequestLog.method == filters.method.upper())
    if filters.route_pattern is not None:
        query = query.where(RequestLog.route_pattern == filters.route_pattern)
    if filters.request_id is not None:
        wanted = filters.request_id if filters.request_id.startswith("req_") else "req_" + filters.request_id
        query = query.where(RequestLog.request_id == wanted.lower())
    if filters.auth_type is not None:
        query = query.where(RequestLog.auth_type == filters.auth_type)
    if filters.status_min is not None:
        query = query.where(RequestLog.status_code >= filters.status_min)
    if filters.status_max is not None:
        query = query.where(RequestLog.status_code <= filters.status_max)
    if filters.start is not None:
        query = query.where(RequestLog.id >= id_floor(filters.start))
    if filters.end is not None:
        query = query.where(RequestLog.id < id_floor(filters.end + timedelta(milliseconds=1)))
    keys = [RequestLog.id] if sort_by == "created_at" else [getattr(RequestLog, sort_by), RequestLog.id]
    return paginate(query, keys=keys, descending=descending, limit=limit, cursor=cursor, listing="logs", render=log_out)


def get_log(org_id: str, log_id: str) -> RequestLogOut:
    """By id, or by `request_id` (`req_...`)."""
    column = RequestLog.request_id if log_id.startswith("req_") else RequestLog.id
    row = RequestLog.get_or_none((RequestLog.organisation == org_id) & (column == log_id))
    if row is None:
        raise NotFound("request log not found")
    return log_out(row, detail=True)


def usage(org_id: str, start: datetime | None, end: datetime | None) -> UsageOut:
    """Daily buckets over [start, end] (default: the last 30 days up to now)."""
    end = end or utcnow()
    start = start or end - timedelta(days=USAGE_DAYS)
    days = daily_usage(org_id, start, end + timedelta(milliseconds=1))
    total = sum(day[1] for day in days)
    errors = sum(day[2] for day in days)
    latency = sum(day[1] * day[3] for day in days) / total if total else 0.0
    return UsageOut(
        start=start,
        end=end,
        total_requests=total,
        error_count=errors,
        avg_latency_ms=round(latency, 3),
        data=[
            UsageDay(date=day, total_requests=count, error_count=failed, avg_latency_ms=round(average, 3))
            for day, count, failed, average in days
        ],
    )
