"""Fresh databases for tests: a new SQLite file, or the PostgreSQL server named by
TEST_POSTGRES_URL with its public schema emptied (tests/services/services.sh starts one).

    >>> @pytest.fixture(params=BACKENDS)
    ... def db(request, tmp_path):
    ...     database = open_database(request.param, tmp_path)
    ...     yield database
    ...     close_database(database)
"""

from __future__ import annotations

import os
from pathlib import Path

import peewee
import pytest

from engine.store.db import connect

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
NO_POSTGRES = "TEST_POSTGRES_URL is not set (tests/services/services.sh starts a server)"


def postgres_url() -> str | None:
    """The test server's URL, or None when there is none."""
    return os.environ.get("TEST_POSTGRES_URL") or None


def empty_database_url(backend: str, directory: Path) -> str:
    """The URL of an empty database of `backend`: a new SQLite file in `directory`, or the test
    server with an empty public schema. Skips the test when PostgreSQL is asked for and not set."""
    if backend == "sqlite":
        return f"sqlite:///{directory / 'accrual.db'}"
    url = postgres_url()
    if url is None:
        pytest.skip(NO_POSTGRES)
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    return url


def open_database(backend: str, directory: Path) -> peewee.Database:
    """An empty database of `backend` (no schema yet), bound to the models like the app does."""
    return connect(empty_database_url(backend, directory))


def close_database(db: peewee.Database) -> None:
    """Close every connection of `db`: pooled ones too, so the next test starts from nothing."""
    db.close_all() if hasattr(db, "close_all") else db.close()
