"""Bodies of `/v1/logs` and `/v1/usage` (Scrip's fields): request logs, the detail with the
redacted bodies, and daily usage."""

from __future__ import annotations

from datetime import datetime

from api.schemas.common import Response


class RequestLogOut(Response, omit_defaults=True):
    id: str
    request_id: str
    method: str
    path: str
    route_pattern: str | None
    status_code: int
    duration_ms: float
    auth_type: str
    error_code: str | None
    created_at: datetime
    api_key_id: str | None = None
    # the detail only
    ip_address: str | None = None
    user_agent: str | None = None
    request_body: str | None = None
    response_body: str | None = None


class UsageDay(Response):
    date: str  # YYYY-MM-DD, UTC
    total_requests: int
    error_count: int  # status 400 and above
    avg_latency_ms: float


class UsageOut(Response):
    start: datetime
    end: datetime
    total_requests: int
    error_count: int
    avg_latency_ms: float
    data: list[UsageDay]
