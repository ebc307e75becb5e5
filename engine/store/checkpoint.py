"""WAL checkpoints off the writers' path, for the long-running processes on a SQLite file.

SQLite appends every commit to the write-ahead log and, by default, the commit that takes the
log past 1,000 pages also copies the log back into the database file and waits for the disk
(`fsync`). That writer holds the write lock meanwhile, so every other writer waits for the copy
and the disk as well (A59).

`start_background_checkpoints(db)` turns that off for the process's connections
(`wal_autocheckpoint=0`) and runs PASSIVE checkpoints from a thread of its own instead: they
copy what no reader still needs, never take the write lock, and the `fsync` happens outside any
writer's turn. The API server and the worker start one each; short-lived commands (the CLI,
tests) keep SQLite's automatic checkpoints, so the log never grows without bound whatever runs.

    >>> checkpointer = start_background_checkpoints(connect("sqlite:///var/accrual.db"))
    >>> checkpointer.stop()
"""

from __future__ import annotations

import logging
import sqlite3
import threading

import peewee

log = logging.getLogger("accrual.store")

BUSY_INTERVAL_S = 0.05  # while the log has pages to copy
IDLE_INTERVAL_S = 0.5


class Checkpointer(threading.Thread):
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` on its own connection until stopped."""

    def __init__(self, path: str) -> None:
        super().__init__(name="accrual-checkpointer", daemon=True)
        self.path = path
        self.stopped = threading.Event()
        self.checkpoints = 0  # passes that copied pages (for tests and diagnostics)

    def run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
        try:
            while not self.stopped.wait(self._pass(connection)):
                pass
        finally:
            connection.close()

    def _pass(self, connection: sqlite3.Connection) -> float:
        """One checkpoint; returns how long to wait before the next one."""
        try:
            _busy, log_pages, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:  # a locked or vanished file: try again later, never stop the process
            log.warning("background checkpoint failed", exc_info=True)
            return IDLE_INTERVAL_S
        if copied > 0:
            self.checkpoints += 1
        return BUSY_INTERVAL_S if log_pages > 0 else IDLE_INTERVAL_S

    def stop(self) -> None:
        self.stopped.set()
        if self.is_alive():
            self.join(timeout=5)


def start_background_checkpoints(db: peewee.Database) -> Checkpointer | None:
    """Checkpoint `db` from a thread and not at commit; None (nothing to do) on PostgreSQL or an
    in-memory database. Call it at process start: connections already open in other threads keep
    automatic checkpoints."""
    if not isinstance(db, peewee.SqliteDatabase) or db.database in ("", ":memory:"):
        return None
    with db.connection_context():  # `permanent`: every connection opened from now on too
        db.pragma("wal_autocheckpoint", 0, permanent=True)
    checkpointer = Checkpointer(db.database)
    checkpointer.start()
    return checkpointer
