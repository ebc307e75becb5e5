"""Background checkpoints: the process's commits stop checkpointing, a thread does it instead."""

from __future__ import annotations

import time

import peewee

from engine.store.checkpoint import start_background_checkpoints
from engine.store.db import connect


def test_commits_leave_checkpoints_to_the_thread_which_copies_the_log(tmp_path):
    db = connect(f"sqlite:///{tmp_path / 'c.db'}")
    checkpointer = start_background_checkpoints(db)
    try:
        with db.connection_context():
            assert db.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
            db.execute_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
            for _ in range(300):  # well past SQLite's automatic threshold of 1,000 pages
                with db.atomic():
                    db.execute_sql("INSERT INTO t (body) VALUES (?)", ("x" * 20_000,))
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checkpointer.checkpoints > 0
        with db.connection_context():
            assert db.execute_sql("SELECT COUNT(*) FROM t").fetchone()[0] == 300
    finally:
        checkpointer.stop()
        db.close_all()
    assert not checkpointer.is_alive()


def test_nothing_to_do_on_an_in_memory_database():
    assert start_background_checkpoints(peewee.SqliteDatabase(":memory:")) is None
