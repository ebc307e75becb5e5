"""The queue: backend choice, transactional enqueue on the application database, deferred send."""

from __future__ import annotations

import pytest
from huey import MemoryHuey, RedisHuey
from huey.constants import EmptyData
from huey.contrib.sql_huey import SqlStorage
from peewee import SqliteDatabase

from engine.queue import (
    QueueError,
    configure_queue,
    create_queue_tables,
    enqueue_delivery,
    enqueue_event,
    reset_queue,
    submit,
)


@pytest.fixture
def database(tmp_path):
    db = SqliteDatabase(str(tmp_path / "app.db"), pragmas={"journal_mode": "wal"})
    create_queue_tables(db)
    yield db
    reset_queue()
    db.close()


def test_default_backend_is_sql_huey_on_the_app_database(database):
    queue = configure_queue(database)
    assert isinstance(queue.huey.storage, SqlStorage)
    assert queue.huey.storage.database is database
    assert queue.transactional


def test_redis_url_gives_redis_huey(database):
    queue = configure_queue(database, "redis://127.0.0.1:1/0")  # not contacted until used
    assert isinstance(queue.huey, RedisHuey)
    assert not queue.transactional


def test_memory_url_gives_immediate_memory_huey(database):
    queue = configure_queue(database, "memory://")
    assert isinstance(queue.huey, MemoryHuey)
    assert queue.huey.immediate


@pytest.mark.parametrize("url", ["postgres://x", "amqp://x", "sqlite:///x.db"])
def test_unknown_queue_url_is_a_coded_error(database, url):
    with pytest.raises(QueueError) as info:
        configure_queue(database, url)
    assert info.value.code == "queue_url_invalid"


def test_enqueue_before_configure_is_a_coded_error():
    reset_queue()
    with pytest.raises(QueueError) as info:
        enqueue_event("ev_1")
    assert info.value.code == "queue_not_configured"


def test_sql_enqueue_rolls_back_with_the_callers_transaction(database):
    queue = configure_queue(database)

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), database.atomic():
        enqueue_event("ev_rolled_back")
        assert queue.huey.pending_count() == 1  # visible inside the transaction
        raise Rollback
    assert queue.huey.pending_count() == 0

    with database.atomic():
        enqueue_event("ev_committed")
    assert queue.huey.pending_count() == 1
    (task,) = queue.huey.pending()
    assert task.name == "process_event" and task.args == ("ev_committed",)


def test_delayed_enqueue_carries_its_eta(database):
    queue = configure_queue(database)
    with database.atomic():
        enqueue_delivery("wd_1", delay_s=30)
    (task,) = queue.huey.pending()  # the consumer moves it to the schedule when it reads it
    assert task.name == "deliver_webhook" and task.args == ("wd_1",)
    assert task.eta is not None


def test_non_transactional_backend_sends_only_after_commit(database, tmp_path):
    queue = configure_queue(database, "memory://")
    out = tmp_path / "out.txt"
    with database.atomic():
        submit(queue, queue.append_line, str(out), "one")
        assert not out.exists()  # the immediate task has not run inside the transaction
    assert out.read_text() == "one\n"
    submit(queue, queue.append_line, str(out), "two")  # no transaction: sent at once
    assert out.read_text() == "one\ntwo\n"


def test_rolled_back_transaction_sends_nothing_on_a_deferred_backend(database, tmp_path):
    queue = configure_queue(database, "memory://")
    out = tmp_path / "out.txt"
    with pytest.raises(ZeroDivisionError), database.atomic():
        submit(queue, queue.append_line, str(out), "never")
        1 / 0  # noqa: B018 - abort the transaction
    with database.atomic():
        pass  # a later commit must not flush the aborted transaction's callbacks
    assert not out.exists()


def test_schema_upgrade_creates_the_queue_tables_in_the_application_database(tmp_path):
    from engine.store.db import connect
    from engine.store.migrations import upgrade

    database = connect(f"sqlite:///{tmp_path / 'app.db'}")
    upgrade(database)
    with database.connection_context():
        assert {"kv", "schedule", "task", "counter"} <= set(database.get_tables())
        assert "event_open_lane" in {
            index.name for index in database.get_indexes("event")
        }  # step 6 replaced event_lane
    database.close_all()


def test_an_empty_take_and_a_missing_key_need_no_write_lock(tmp_path):
    """Huey pops every task's revocation key after running it, and idle threads poll: neither may
    wait for the write lock when there is nothing to take (here another writer holds it, and a
    write transaction would fail after the 0.1 s busy timeout)."""
    import sqlite3

    db = SqliteDatabase(str(tmp_path / "locked.db"), pragmas={"journal_mode": "wal"}, timeout=0.1)
    create_queue_tables(db)
    storage = configure_queue(db).huey.storage
    holder = sqlite3.connect(str(tmp_path / "locked.db"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert storage.dequeue() is None
        assert storage.pop_data("r:some-task") is EmptyData
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        reset_queue()
        db.close()


def test_a_task_and_a_key_that_exist_are_taken_once(database):
    storage = configure_queue(database).huey.storage
    storage.enqueue(b"task-1")
    storage.put_data("r:task-1", b"revoked")
    assert storage.dequeue() == b"task-1"
    assert storage.dequeue() is None
    assert storage.pop_data("r:task-1") == b"revoked"
    assert storage.pop_data("r:task-1") is EmptyData
