"""The databases and queues a benchmark runs on: a PostgreSQL server's public schema replaced, a
Redis queue emptied, rows read from outside the measured processes."""

from __future__ import annotations

from typing import Any

from engine.queue import QueueError
from engine.store.errors import StoreError


def reset_database(database_url: str) -> None:
    """Replace a PostgreSQL database's public schema: the benchmark starts from nothing. A URL
    that is not PostgreSQL's, or a server that cannot be reached, is a `StoreError` with its code."""
    import psycopg

    if not database_url.startswith(("postgresql://", "postgres://")):
        raise StoreError(
            f"--database takes a PostgreSQL URL (postgresql://...), not {database_url!r}",
            code="unsupported_database_url",
        )
    try:
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    except psycopg.Error as exc:
        raise StoreError(f"cannot use the database: {exc}", code="database_unavailable") from None


def empty_queue(queue_url: str) -> None:
    """Empty a Redis queue's database: wake-ups of an earlier run would only be no-ops, but an
    empty queue makes the figures this run's own. A URL that is not Redis's, or a server that
    cannot be reached, is a `QueueError` with its code."""
    import redis

    if not queue_url.startswith(("redis://", "rediss://", "unix://")):
        raise QueueError(
            f"--queue takes 'sql' or a Redis URL (redis://...), not {queue_url!r}", code="queue_url_invalid"
        )
    client = redis.Redis.from_url(queue_url)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        raise QueueError(f"cannot use the queue: {exc}", code="queue_unavailable") from None
    finally:
        client.close()


_connections: dict[str, Any] = {}  # PostgreSQL URL -> this process's reading connection


def rows_of(database_url: str, sql: str) -> list[tuple]:
    """Rows of `sql`, read with a connection of this process (the processes write meanwhile). On
    PostgreSQL the connection is kept until `close_connections`, so that polling costs the server
    a query, not a new backend process each time."""
    if database_url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30) as reader:
            return reader.execute(sql).fetchall()
    import psycopg

    kept = _connections.get(database_url)
    if kept is None or kept.closed:
        kept = _connections[database_url] = psycopg.connect(database_url, autocommit=True)
    return kept.execute(sql).fetchall()


def close_connections() -> None:
    """Close the connections `rows_of` kept."""
    while _connections:
        _connections.popitem()[1].close()
