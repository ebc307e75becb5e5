from __future__ import annotations

import os
import sqlite3

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.cli.bench.databases import close_connections, empty_queue, reset_database, rows_of
from engine.errors import EngineError


def test_rows_are_read_from_a_sqlite_file(tmp_path):
    path = tmp_path / "bench.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE event (status TEXT)")
        conn.executemany("INSERT INTO event VALUES (?)", [("COMPLETED",), ("COMPLETED",), ("PENDING",)])
    assert sorted(rows_of(f"sqlite:///{path}", "SELECT status, COUNT(*) FROM event GROUP BY status")) == [
        ("COMPLETED", 2),
        ("PENDING", 1),
    ]


@pytest.mark.postgres
def test_a_postgresql_database_starts_from_nothing_and_a_redis_queue_empty():
    database, queue = os.environ.get("TEST_POSTGRES_URL"), os.environ.get("TEST_REDIS_URL")
    if not (database and queue):
        pytest.skip("TEST_POSTGRES_URL and TEST_REDIS_URL are not set (tests/services/services.sh starts them)")
    import psycopg
    import redis

    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS leftover; CREATE TABLE leftover (n int)")
    reset_database(database)
    try:
        assert rows_of(database, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]
        first = rows_of(database, "SELECT pg_backend_pid()")
        assert rows_of(database, "SELECT pg_backend_pid()") == first  # one kept connection, not one a poll
    finally:
        close_connections()
    client = redis.Redis.from_url(queue)
    try:
        client.set("stale-wake-up", "1")
        empty_queue(queue)
        assert client.dbsize() == 0
    finally:
        client.close()


@pytest.mark.parametrize(
    ("reset", "url", "code"),
    [
        (reset_database, "nonsense", "unsupported_database_url"),
        (reset_database, "sqlite:///bench.db", "unsupported_database_url"),
        (reset_database, "postgresql://postgres@127.0.0.1:1/nothing", "database_unavailable"),
        (empty_queue, "amqp://127.0.0.1/", "queue_url_invalid"),
        (empty_queue, "redis://127.0.0.1:1/0", "queue_unavailable"),
    ],
)
def test_a_wrong_or_unreachable_server_is_an_error_with_its_code(reset, url, code):
    with pytest.raises(EngineError) as raised:
        reset(url)
    assert raised.value.code == code


def test_the_command_reports_a_wrong_database_without_a_traceback():
    result = CliRunner().invoke(main, ["bench", "pipeline", "--events", "50", "--database", "nonsense"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: unsupported_database_url: --database takes a PostgreSQL URL")
