"""`GET /v1/health` (liveness, no auth, no I/O) and `GET /v1/health/ready` (database and queue)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Controller, Response, get

from api.auth import PUBLIC
from api.errors import responses
from engine.queue import current_queue
from engine.store.db import database_proxy


class Health(msgspec.Struct, kw_only=True, omit_defaults=True):
    status: str  # ok | unavailable
    database: str | None = None
    queue: str | None = None


def _probe_database() -> str:
    try:
        with database_proxy.connection_context():
            database_proxy.execute_sql("SELECT 1").fetchone()
    except Exception as exc:  # noqa: BLE001  # any error means "not ready"; the probe reports its type
        return f"error: {type(exc).__name__}"
    return "ok"


def _probe_queue() -> str:
    try:
        queue = current_queue()
        with database_proxy.connection_context():
            queue.huey.storage.queue_size()
    except Exception as exc:  # noqa: BLE001  # as above: a probe reports, it does not raise
        return f"error: {type(exc).__name__}"
    return "ok"


class HealthController(Controller):
    path = "/v1/health"
    tags = ("health",)
    opt: Mapping[str, Any] = {PUBLIC: True}
    security = ({},)  # OpenAPI: no authentication required

    @get("/", sync_to_thread=False, summary="Liveness")
    def live(self) -> Health:
        return Health(status="ok")

    @get("/ready", sync_to_thread=True, summary="Readiness: database and queue reachable", responses=responses(503))
    def ready(self) -> Response[Health]:
        database, queue = _probe_database(), _probe_queue()
        ok = database == "ok" and queue == "ok"
        return Response(
            Health(status="ok" if ok else "unavailable", database=database, queue=queue), status_code=200 if ok else 503
        )
