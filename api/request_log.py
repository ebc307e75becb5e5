"""Request logs: every authenticated `/v1` request recorded with its bodies, secrets redacted
(A189), the request paying only the capture (A190).

    app = Litestar(..., middleware=[ApiKeyMiddleware(...), RequestLogMiddleware(writer)])

The middleware runs inside the API-key middleware, so it knows the caller's organisation and key.
It gives every response an `X-Request-Id: req_...` header (made from the log's time-ordered id,
A267), keeps the first 16 KiB of each body as it streams by, and hands the finished request to
the `RequestLogWriter`: appending to a list is all a request pays. The writer's thread redacts
the bodies, reads the error code from the error envelope and writes the logs in batches, one
transaction each, every `interval_s` (or sooner when `batch` are waiting): about 25 µs of CPU a
log, measured (A267). Reading the logs (`GET /v1/logs`) first flushes this process's waiting
logs, so a client sees its own requests. Past `max_pending` waiting logs (the database is down)
the newest are dropped and counted, so memory stays bounded. The log and usage routes themselves
are not logged: reading logs would otherwise fill the log with copies of it.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from api.auth import PUBLIC, Principal
from api.redaction import BODY_LIMIT, redact_body
from engine.store.db import database_proxy, new_id, utcnow
from engine.store.request_logs import write_request_logs

log = logging.getLogger("accrual.request_log")

REQUEST_ID_HEADER = b"x-request-id"
NOT_LOGGED = ("/v1/logs", "/v1/usage")
_TYPED_PARAMETER = re.compile(r"\{(\w+):\w+\}")


def request_id_of(log_id: str) -> str:
    """`req_` and the 128 bits of the log's UUIDv7 id in 26 characters of base32hex, whose
    alphabet (0-9, a-v) sorts as the bits do: request ids made one after the other sort
    together, so the request-id index grows at its end as the id index does, where random ids
    would land on a random page of it for every log (A267).

    >>> request_id_of("0192f3c4-5d6e-7f80-9a0b-1c2d3e4f5a6b")
    'req_069f7h2tdpvo16gb3gmjsjqqdc'
    """
    return "req_" + base64.b32hexencode(bytes.fromhex(log_id.replace("-", ""))).decode().rstrip("=").lower()


@dataclass
class Capture:
    """What the middleware saw of one request; turned into a row by the writer's thread."""

    id: str = ""
    request_id: str = ""
    organisation_id: str = ""
    api_key_id: str | None = None
    method: str = ""
    path: str = ""
    route_pattern: str | None = None
    status_code: int = 0
    duration_ms: float = 0.0
    ip_address: str | None = None
    user_agent: str | None = None
    created_at: Any = None
    request_body: bytearray = field(default_factory=bytearray)
    request_truncated: bool = False
    response_body: bytearray = field(default_factory=bytearray)
    response_truncated: bool = False

    def row(self) -> dict[str, Any]:
        response = redact_body(bytes(self.response_body), truncated=self.response_truncated)
        return {
            "id": self.id,
            "organisation": self.organisation_id,
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path[:2048],
            "route_pattern": self.route_pattern,
            "status_code": self.status_code,
            "duration_ms": round(self.duration_ms, 3),
            "auth_type": "api_key",
            "api_key_id": self.api_key_id,
            "error_code": _error_code(response) if self.status_code >= 400 else None,
            "ip_address": self.ip_address,
            "user_agent": self.user_agent,
            "request_body": redact_body(bytes(self.request_body), truncated=self.request_truncated),
            "response_body": response,
            "created_at": self.created_at,
        }


def _error_code(body: str | None) -> str | None:
    if not body:
        return None
    try:
        code = msgspec.json.decode(body).get("code")
    except (msgspec.DecodeError, AttributeError):
        return None
    return code[:64] if isinstance(code, str) else None


def _keep(buffer: bytearray, chunk: bytes) -> bool:
    """Append what fits under the limit; True when something did not fit."""
    room = BODY_LIMIT - len(buffer)
    buffer.extend(chunk[: max(room, 0)])
    return len(chunk) > room


class RequestLogWriter:
    """Logs waiting to be written, and the thread that writes them."""

    def __init__(self, *, interval_s: float = 1.0, batch: int = 500, max_pending: int = 20_000) -> None:
        self.interval_s, self.batch, self.max_pending = interval_s, batch, max_pending
        self.dropped = 0
        self._pending: list[Capture] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()  # one flush at a time: a reader's flush waits for the thread's
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, capture: Capture) -> None:
        with self._lock:
            if len(self._pending) >= self.max_pending:
                self.dropped += 1
                return
            self._pending.append(capture)
            waiting = len(self._pending)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="request-log-writer", daemon=True)
                self._thread.start()
        if waiting >= self.batch:
            self._wake.set()

    def flush(self) -> int:
        """Write every waiting log now, in the caller's thread; returns how many were written."""
        with self._flush_lock:
            with self._lock:
                taken, self._pending = self._pending, []
            if not taken:
                return 0
            rows = [capture.row() for capture in taken]
            with database_proxy.connection_context():
                write_request_logs(rows)
            return len(rows)

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the database may be away; the logs wait (bounded) for the next pass
                log.exception("writing request logs failed")
                time.sleep(self.interval_s)

    def stop(self) -> None:
        """Write what waits and stop the thread (the application's shutdown)."""
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()


class RequestLogMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)
    exclude_opt_key = PUBLIC

    def __init__(self, writer: RequestLogWriter | None) -> None:
        self.writer = writer

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        log_id = new_id()  # made as the request starts, as its `created_at` is
        request_id = request_id_of(log_id)
        principal = scope.get("auth")
        path = scope["path"]
        logged = self.writer is not None and isinstance(principal, Principal) and not path.startswith(NOT_LOGGED)
        if not logged:
            await next_app(scope, receive, _with_request_id(send, request_id))
            return
        assert isinstance(principal, Principal) and self.writer is not None
        capture = Capture(
            id=log_id, request_id=request_id, method=str(scope.get("method", "")), path=path, created_at=utcnow()
        )
        capture.organisation_id, capture.api_key_id = principal.organisation_id, principal.api_key_id
        started = time.perf_counter()

        async def receive_and_keep() -> ReceiveMessage:
            message = await receive()
            if message["type"] == "http.request" and not capture.request_truncated:
                capture.request_truncated = _keep(capture.request_body, message.get("body", b""))
            return message

        async def send_and_keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                capture.status_code = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
            elif message["type"] == "http.response.body" and not capture.response_truncated:
                capture.response_truncated = _keep(capture.response_body, message.get("body", b""))
            await send(message)

        try:
            await next_app(scope, receive_and_keep, send_and_keep)
        finally:
            capture.duration_ms = (time.perf_counter() - started) * 1000
            capture.status_code = capture.status_code or 500  # nothing was sent: the server failed
            capture.route_pattern = _route_pattern(scope)
            client = scope.get("client")
            capture.ip_address = client[0] if client else None
            capture.user_agent = _header(scope, b"user-agent")
            self.writer.add(capture)


def _with_request_id(send: Send, request_id: str) -> Send:
    async def send_with_id(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
        await send(message)

    return send_with_id


def _route_pattern(scope: Scope) -> str | None:
    template = scope.get("path_template")
    return _TYPED_PARAMETER.sub(r"{\1}", template)[:255] if isinstance(template, str) else None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")[:512]
    return None
