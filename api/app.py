"""The Litestar application: controllers, the error table, auth, limits and OpenAPI.

    >>> db = connect("sqlite:///var/accrual.db")
    >>> app = create_app(db)                      # uvicorn engine.cli.server:app_from_env --factory

`create_app` takes extra route handlers (the playground mounts itself at `/playground` this way);
routes marked `opt={"public": True}` need no API key.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import msgspec
import peewee
from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Server

from api.auth import ApiKeyMiddleware, KeyCache, provide_principal
from api.body import decode_body
from api.controllers import CONTROLLERS
from api.errors import EXCEPTION_HANDLERS, BadRequest
from api.keys import lookup_key
from api.metrics import metrics
from api.openapi import finalize_openapi
from api.ratelimit import RateLimitConfig, RateLimiter
from api.request_log import RequestLogMiddleware, RequestLogWriter
from engine.queue import configure_queue
from engine.store.db import connect

MIB = 1024 * 1024
_BODY_METHODS = {"POST", "PUT", "PATCH"}


class ApiSettings(msgspec.Struct, kw_only=True, frozen=True):
    """Example: `ApiSettings(max_body_bytes=65536, rate_limit=RateLimitConfig(rate_per_s=10, burst=30))`."""

    max_body_bytes: int = MIB
    rate_limit: RateLimitConfig | None = None  # off by default for self-hosting
    key_cache_ttl_s: float = 5.0
    queue_url: str | None = None  # None: QUEUE_URL from the environment; see engine/queue.py
    request_logs: bool = True  # record requests for GET /v1/logs and /v1/usage (api/request_log.py)

    @classmethod
    def from_env(cls) -> ApiSettings:
        """`ACCRUAL_MAX_BODY_BYTES`, `ACCRUAL_RATE_LIMIT` ("10/30" = 10 req/s, burst 30), `QUEUE_URL`,
        `ACCRUAL_REQUEST_LOGS` (`0` records no request logs)."""
        rate = os.environ.get("ACCRUAL_RATE_LIMIT", "").strip()
        limit = None
        if rate:
            per_s, _, burst = rate.partition("/")
            limit = RateLimitConfig(rate_per_s=float(per_s), burst=int(burst or float(per_s) * 3))
        return cls(
            max_body_bytes=int(os.environ.get("ACCRUAL_MAX_BODY_BYTES", MIB)),
            rate_limit=limit,
            queue_url=os.environ.get("QUEUE_URL"),
            request_logs=os.environ.get("ACCRUAL_REQUEST_LOGS", "1").strip() != "0",
        )


async def check_request(request: Request) -> None:
    """No query parameter twice (none of ours is a list, and silently taking one of two values would
    hide a client's bug); bodies must be JSON: another content type is a 400, not a guess, and a
    body that does not decode, nests too deeply or holds a number out of range is a 400 too
    (`api.body`). Only the API's own routes: mounted apps (the playground posts HTML forms) keep
    their conventions."""
    if not request.url.path.startswith("/v1/"):
        return
    keys = [key for key, _ in request.query_params.multi_items()]
    if len(keys) != len(set(keys)):
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        raise BadRequest(
            f"query parameters given more than once: {', '.join(repeated)}",
            details={"field": repeated[0], "reason": "invalid"},
        )
    if request.method not in _BODY_METHODS:
        return
    has_body = request.headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in request.headers
    if not has_body:
        return
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise BadRequest(
            f"request bodies must be application/json, not {media_type or 'unspecified'!r}",
            details={"field": "content-type", "reason": "invalid"},
        )
    await decode_body(request)


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Accrual API",
        version="1.0.0",
        description="Scrip-compatible rules engine API: events, programs, assets, participants, rules, ledger.",
        path="/schema",
        servers=[Server(url="/")],
        render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header"),
                "bearer": SecurityScheme(type="http", scheme="bearer", description="Authorization: Bearer sk_..."),
            }
        ),
        security=[{"apiKey": []}, {"bearer": []}],
        use_handler_docstrings=True,
    )


def create_app(
    database: peewee.Database | None = None,
    *,
    settings: ApiSettings | None = None,
    route_handlers: Sequence[Any] = (),
    configure_queue_for_app: bool = True,
) -> Litestar:
    """The API application on `database` (default: `DATABASE_URL`), plus `route_handlers`."""
    settings = settings or ApiSettings()
    database = database or connect()
    if configure_queue_for_app:
        configure_queue(database, settings.queue_url if settings.queue_url is not None else os.environ.get("QUEUE_URL"))
    limiter = RateLimiter(settings.rate_limit) if settings.rate_limit else None
    writer = RequestLogWriter() if settings.request_logs else None
    app = Litestar(
        route_handlers=[*CONTROLLERS, metrics, *route_handlers],
        state=State({"settings": settings, "database": database, "request_log_writer": writer}),
        dependencies={"principal": Provide(provide_principal, sync_to_thread=False)},
        # the request log runs inside authentication: it knows the caller
        middleware=[
            ApiKeyMiddleware(KeyCache(lookup_key, settings.key_cache_ttl_s), limiter),
            RequestLogMiddleware(writer),
        ],
        on_shutdown=[writer.stop] if writer is not None else [],
        before_request=check_request,
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=openapi_config(),
    )
    finalize_openapi(app)
    return app
