"""Errors of the HTTP API and the one table that turns any exception into a response.

Every error answers Scrip's envelope (D24): `{"code": "...", "message": "...", "details": {...}}`.

    ApiError                       (status)  code
    ├── BadRequest                 400       bad_request
    ├── Unauthorized               401       unauthorized
    ├── NotFound                   404       not_found
    ├── Conflict                   409       conflict (refined: already_exists, tier_archived, ...)
    ├── IdempotencyConflict        409       idempotency_conflict
    ├── PayloadTooLarge            413       payload_too_large
    └── TooManyRequests            429       too_many_requests

Foreign exceptions are translated here and nowhere else: Litestar's validation failures become
400 `bad_request` with field-level details, `EngineError`s keep their code (engine codes are
lower-case snake case) with the status of `ENGINE_STATUS`, the database's operational errors (a
deadlock or serialization failure on PostgreSQL, a lock still held past SQLite's busy timeout, a
lost connection) answer 503 `service_unavailable` with `Retry-After`, since the same request
succeeds once the contention passes (an idempotency key makes the retry safe), and anything
unexpected, a broken ledger invariant included, is logged and answers 500 `internal_error`
without a stack trace.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
import peewee
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from dsl.errors import DslError
from engine.errors import EngineError, LedgerInvariantError
from engine.store.errors import Conflict as StoreConflict
from engine.store.errors import NotFound as StoreNotFound

log = logging.getLogger("accrual.api")


class ErrorBody(msgspec.Struct, kw_only=True):
    """The error envelope. Example: `{"code": "not_found", "message": "event not found", "details": {}}`."""

    code: str
    message: str
    details: dict[str, Any] = msgspec.field(default_factory=dict)


class ApiError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.details = details or {}
        self.headers = headers or {}


class BadRequest(ApiError):
    status_code, code = 400, "bad_request"


class Unauthorized(ApiError):
    status_code, code = 401, "unauthorized"


class NotFound(ApiError):
    status_code, code = 404, "not_found"


class Conflict(ApiError):
    status_code, code = 409, "conflict"


class IdempotencyConflict(ApiError):
    status_code, code = 409, "idempotency_conflict"


class PayloadTooLarge(ApiError):
    status_code, code = 413, "payload_too_large"


class TooManyRequests(ApiError):
    status_code, code = 429, "too_many_requests"


def field_error(field: str, message: str, *, reason: str = "invalid") -> BadRequest:
    """A 400 about one request field, with Scrip's validation details.

    Example: `raise field_error("asset_id", "unknown asset 'PTS'")`.
    """
    item = {"field": field, "reason": reason, "message": message}
    return BadRequest("Invalid request parameters", details={**item, "fields": [item]})


# Engine and storage codes whose HTTP status is not 422 (the default for a refused operation).
ENGINE_STATUS: dict[str, int] = {
    "invalid_scale": 400,
    "invalid_amount": 400,
    "bad_request": 400,
    "not_found": 404,
    "participant_inactive": 409,
    "tier_archived": 409,
    "conflict": 409,
    "order_conflict": 409,
    "already_exists": 409,
    "idempotency_conflict": 409,
    "archived": 409,
    "asset_archived": 409,
    "asset_not_linked": 409,
    "asset_not_prefunded": 409,
    # spending (`engine.model.spending`, `engine.store.transfers`)
    "self_transfer": 400,
    "duplicate_recipient": 400,
    "unsupported_party": 400,
    # groups (`engine.store.groups`)
    "admin_required": 400,
    "duplicate_member": 400,
    "program_inactive": 409,
    "reward_not_active": 409,
    "reward_not_available": 409,
    "out_of_stock": 409,
    "redemption_limit_exceeded": 409,
    "redemption_fully_reversed": 409,
    "reversal_exceeds_redemption": 409,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "bad_request",
    429: "too_many_requests",
    503: "service_unavailable",
}


def _envelope(
    status: int, code: str, message: str, details: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> Response[ErrorBody]:
    return Response(ErrorBody(code=code, message=message, details=details or {}), status_code=status, headers=headers)


_NAMED_FIELD = re.compile(r"(unknown|missing required) field `([^`]+)`")


def _validation_fields(extra: Any) -> list[dict[str, str]]:
    """Litestar's `[{message, key, source}]` as Scrip's `[{field, reason, message, source}]`."""
    fields = []
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid value"))
        field = str(item.get("key") or "")
        reason = "invalid"
        named = _NAMED_FIELD.search(message)
        if named:
            # msgspec names the field in the message and gives the enclosing object as the key.
            field = named.group(2) if field in ("", "data") else f"{field}.{named.group(2)}"
            reason = "unknown" if named.group(1) == "unknown" else "required"
        entry = {"field": "" if field == "data" else field, "reason": reason, "message": message}
        if item.get("source"):
            entry["source"] = str(item["source"])
        fields.append(entry)
    return fields


def api_error_handler(_: Request, exc: ApiError) -> Response[ErrorBody]:
    return _envelope(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


def http_exception_handler(_: Request, exc: HTTPException) -> Response[ErrorBody]:
    if isinstance(exc, ValidationException):
        fields = _validation_fields(exc.extra)
        details: dict[str, Any] = {**fields[0], "fields": fields} if fields else {}
        return _envelope(400, "bad_request", "Invalid request parameters", details)
    status = exc.status_code
    code = _HTTP_CODES.get(status, "internal_error" if status >= 500 else "bad_request")
    if status == 415:
        status = 400
    return _envelope(status, code, str(exc.detail), headers=dict(exc.headers or {}))


def engine_error_handler(request: Request, exc: EngineError) -> Response[ErrorBody]:
    if isinstance(exc, LedgerInvariantError):  # a broken ledger invariant is a bug, never the client's
        return internal_error_handler(request, exc)
    code = exc.code
    status = ENGINE_STATUS.get(code)
    if status is None:
        # The store's classes carry the status whatever their refined code (rule_archived, ...).
        status = 409 if isinstance(exc, StoreConflict) else 404 if isinstance(exc, StoreNotFound) else 422
    details = {k: v for k, v in exc.details.items() if isinstance(v, (str, int, float, bool, type(None)))}
    return _envelope(status, code, exc.message, details)


def dsl_error_handler(_: Request, exc: DslError) -> Response[ErrorBody]:
    details = {"line": exc.line, "column": exc.column, "dsl_code": exc.code}
    return _envelope(400, "invalid_expression", str(exc), {k: v for k, v in details.items() if v is not None})


RETRY_AFTER_S = 1


def database_busy_handler(request: Request, exc: peewee.OperationalError) -> Response[ErrorBody]:
    """Contention or a lost connection: nothing was committed (the transaction rolled back whole),
    and the client is told to come back rather than that the server broke."""
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    message = "the database is busy or unavailable; retry the request"
    return _envelope(503, "service_unavailable", message, headers={"Retry-After": str(RETRY_AFTER_S)})


def internal_error_handler(request: Request, exc: Exception) -> Response[ErrorBody]:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _envelope(500, "internal_error", "internal server error")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ApiError: api_error_handler,
    EngineError: engine_error_handler,
    DslError: dsl_error_handler,
    HTTPException: http_exception_handler,
    peewee.OperationalError: database_busy_handler,
    Exception: internal_error_handler,
}


def responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI response entries with the error envelope, for a handler's `responses=`.

    Example: `@get("/v1/events/{id}", responses=responses(404))`.
    """
    descriptions = {
        400: "Invalid request",
        401: "Missing or invalid API key",
        404: "Not found",
        409: "Conflict",
        413: "Body too large",
        422: "Operation refused",
        429: "Rate limit exceeded",
        503: "Not ready",
    }
    return {
        s: ResponseSpec(data_container=ErrorBody, description=descriptions.get(s, "Error"), generate_examples=False)
        for s in sorted({400, 401, 413, 429, *statuses})
    }
