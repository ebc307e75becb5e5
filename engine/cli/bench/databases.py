"""The databases and queues a benchmark runs on: a PostgreSQL server's public schema replaced, a
Redis queue emptied, rows read from outside the measured processes."""

from __future__ import annotations


def reset_database(database_url: str) -> None:
    """Replace a PostgreSQL database's public schema: the benchmark starts from nothing."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")


def empty_queue(queue_url: str) -> None:
    """Empty a Redis queue's database: wake-ups of an earlier run would only be no-ops, but an
    empty queue makes the figures this run's own."""
    import redis

    client = redis.Redis.from_url(queue_url)
    try:
        client.flushdb()
    finally:
        client.close()


def rows_of(database_url: str, sql: str) -> list[tuple]:
    """Rows of `sql`, read with a connection of this process (the processes write meanwhile)."""
    if database_url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30) as conn:
            return conn.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(sql).fetchall()
