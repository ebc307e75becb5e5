"""Statements sent to PostgreSQL in one round trip (psycopg's pipeline mode).

Each statement on PostgreSQL costs a round trip; a block of writes whose results nobody needs
at once can go in one. Inside `pipelined()` statements are sent without waiting; what needs a
result (a row count, rows to prove) is handed to `after_sync` and runs once the block's results
are back. SQLite has no round trips: there the statements and the checks run at once.

    with write_transaction(), pipelined():
        statements.insert(JournalEntry, entries)
        read = statements.sent_rows(recheck_sql, params, types)
        after_sync(lambda: prove(read()))
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from engine.store.db import database_proxy, is_postgres

# The checks of the statements sent in the current `pipelined` block, run once it has synced.
_after_sync: ContextVar[list[Callable[[], None]] | None] = ContextVar("after_sync", default=None)


@contextlib.contextmanager
def pipelined() -> Iterator[None]:
    """Send the block's statements to PostgreSQL without waiting for each result (psycopg's
    pipeline mode): the block costs one round trip, not one per statement. Results arrive when
    the block ends, so inside it a statement's rowcount and rows are not known yet: what needs
    them is handed to `after_sync` and runs after the block's last result, in order. A failing
    statement raises when the block ends, and the caller's transaction rolls back as usual.
    On SQLite, which has no round trips, statements run and checks follow at once.

    >>> with pipelined():
    ...     statements.insert(JournalEntry, entries)                           # sent
    ...     read = statements.sent_rows(recheck_sql, params, types)            # sent
    ...     after_sync(lambda: verify(read()))                                 # after the results
    """
    if not is_postgres() or _after_sync.get() is not None:  # SQLite, or a pipeline already open
        yield
        return
    checks: list[Callable[[], None]] = []
    token = _after_sync.set(checks)
    try:
        with database_proxy.obj.connection().pipeline():
            yield
    finally:
        _after_sync.reset(token)
    for check in checks:
        check()


def open_pipeline() -> object | None:
    """The `pipelined` block the calling code runs in (an opaque token, the same for the whole
    block), or None: for counting round trips."""
    return _after_sync.get()


def after_sync(check: Callable[[], None]) -> None:
    """Run `check` once the statements sent so far have their results: at once outside a
    `pipelined` block, at its end inside one."""
    pending = _after_sync.get()
    if pending is None:
        check()
    else:
        pending.append(check)
