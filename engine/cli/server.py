"""The server `accrual serve` runs: the HTTP API with the playground, as a uvicorn factory
(`engine.cli.server:app_from_env`)."""

from __future__ import annotations

import gc

from litestar import Litestar

from api.app import ApiSettings, create_app
from engine.store.checkpoint import start_background_checkpoints
from engine.store.db import connect
from playground import router as playground_router


def app_from_env() -> Litestar:
    """The factory `accrual serve` hands to uvicorn (`engine.cli.server:app_from_env`, `factory=True`): the
    API and the playground on the database `DATABASE_URL` names."""
    database = connect()
    start_background_checkpoints(database)
    app = create_app(database, settings=ApiSettings.from_env(), route_handlers=[playground_router])
    # Everything built so far (modules, the CEL grammar, compiled example programs) lives as long as
    # the process: moving it out of the collector's generations keeps full collections, which
    # otherwise stall a request every few edits in the playground, short.
    gc.collect()
    gc.freeze()
    return app
