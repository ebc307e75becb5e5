"""One database connection per request, opened in the handler's own thread.

peewee keeps connection state per thread and Litestar runs sync handlers on a thread pool, so the
connection must be taken (and given back to the pool) inside the handler, never in middleware.
Handlers that use the database are plain `def`s declared with `sync_to_thread=True` and decorated
with `@with_connection`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from engine.store.db import database_proxy

P = ParamSpec("P")
R = TypeVar("R")


def with_connection(handler: Callable[P, R]) -> Callable[P, R]:
    """Run `handler` inside `database.connection_context()`.

    Example::

        @get("/v1/programs/{program_id:str}", sync_to_thread=True)
        @with_connection
        def get_program(...) -> ProgramOut: ...
    """

    @functools.wraps(handler)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with database_proxy.connection_context():
            return handler(*args, **kwargs)

    return run
