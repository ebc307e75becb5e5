"""The database: one URL picks SQLite (the default) or PostgreSQL, and every model uses it.

`connect()` builds a concrete peewee `Database` from a URL and binds the models' `DatabaseProxy`
to it. The concrete object is what `SqlHuey` needs (it rejects a proxy), so callers keep it.

    sqlite:///var/accrual.db             one file, WAL, foreign keys, busy timeout, pooled
    sqlite:///:memory:                   tests only (one connection, no pool)
    postgresql://user@host:5432/db       psycopg 3, pooled (`postgresql+pool://` and
                                         `psycopg3://` mean the same)

Amounts are stored exactly: a column of the logical type `AMOUNT` is `NUMERIC` on PostgreSQL and
canonical decimal TEXT on SQLite (SQLite's NUMERIC affinity would turn "0.1" into a float).
The pure engine never sees peewee: storage hands it `Decimal`s, `datetime`s and Structs. The
queue (SqlHuey on this database), the worker and the API use the models and this module too.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import peewee
from playhouse.db_url import connect as url_connect
from playhouse.pool import PooledDatabase

from engine.store.errors import Duplicate, StoreError

database_proxy = peewee.DatabaseProxy()

DEFAULT_SQLITE_FILE = Path("var") / "accrual.db"
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",  # WAL + NORMAL: durable across crashes of the process, not of the OS
    "busy_timeout": 10_000,
    "foreign_keys": 1,
    "cache_size": -64 * 1024,
}
POOL_OPTIONS = {"max_connections": 32, "stale_timeout": 300, "timeout": 30}
FIELD_TYPES = {
    "sqlite": {"AMOUNT": "TEXT", "JSON": "TEXT"},
    "postgres": {"AMOUNT": "NUMERIC", "JSON": "TEXT"},
}


def database_url() -> str:
    """`DATABASE_URL`, or a SQLite file under the working directory's `var/`."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_FILE}"


def connect(url: str | None = None) -> peewee.Database:
    """Open the database named by `url` (default: `database_url()`) and bind the models to it.

    Returns the concrete Database (hand it to `SqlHuey(database=...)`). Connections open lazily,
    one per thread; with a pool, `db.close()` returns the connection to the pool.

    >>> db = connect("sqlite:///:memory:")
    >>> db.execute_sql("select 1").fetchone()
    (1,)
    """
    url = url or database_url()
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("sqlite", "sqlite+pool"):
        db = _sqlite(url)
    elif scheme in ("postgresql", "postgres", "postgresql+pool", "postgres+pool", "psycopg3", "psycopg3+pool"):
        rest = url.split("://", 1)[1]
        db = url_connect(f"psycopg3+pool://{rest}", field_types=FIELD_TYPES["postgres"], **_pool_defaults(url))
    else:
        raise StoreError(
            f"unsupported DATABASE_URL scheme {scheme!r}: use sqlite:///path or postgresql://...",
            code="unsupported_database_url",
        )
    database_proxy.initialize(db)
    return db


def _sqlite(url: str) -> peewee.Database:
    path = url.split("://", 1)[1].split("?", 1)[0].removeprefix("/")
    if path in ("", ":memory:"):
        return peewee.SqliteDatabase(":memory:", pragmas=SQLITE_PRAGMAS, field_types=FIELD_TYPES["sqlite"])
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return url_connect(
        f"sqlite+pool:///{path}",
        pragmas=SQLITE_PRAGMAS,
        check_same_thread=False,  # pooled connections move between threads, which sqlite3 refuses by default
        field_types=FIELD_TYPES["sqlite"],
        **_pool_defaults(url),
    )


def _pool_defaults(url: str) -> dict:
    query = urlsplit(url).query
    given = {part.split("=", 1)[0] for part in query.split("&") if part}
    return {key: value for key, value in POOL_OPTIONS.items() if key not in given}


def close_all(db: peewee.Database) -> None:
    """Close `db`'s connections: with a pool, every one of them (other threads' too); without one
    (`sqlite:///:memory:`), the calling thread's."""
    if isinstance(db, PooledDatabase):
        db.close_all()
    else:
        db.close()


def is_postgres(db: peewee.Database | None = None) -> bool:
    db = db or database_proxy.obj
    return isinstance(db, peewee.PostgresqlDatabase)


def write_transaction(db: peewee.Database | None = None):
    """One write transaction. On SQLite the write lock is taken up front (`BEGIN IMMEDIATE`),
    so two writers never deadlock upgrading a read lock, and only after the writer's turn
    (`writer_turn`); PostgreSQL locks rows as it goes."""
    db = db or database_proxy.obj
    if isinstance(db, peewee.SqliteDatabase) and not db.in_transaction():
        return _turn_then(db, db.atomic("IMMEDIATE"))
    return db.atomic()


@contextlib.contextmanager
def unique_insert(*, savepoint: bool = True, db: peewee.Database | None = None) -> Iterator[None]:
    """Run an insert under a unique key; a concurrent writer that took the key first raises
    `Duplicate`. The one place where the driver's IntegrityError is translated.

    The block runs in a savepoint, so on PostgreSQL the violation does not abort the caller's
    transaction; `savepoint=False` where the caller's lock already excludes the race (SQLite's
    write lock) and the violation would be a bug.

    >>> with unique_insert():
    ...     Participant.create(organisation=org_id, external_id="u1")
    """
    db = db or database_proxy.obj
    try:
        with db.atomic() if savepoint else contextlib.nullcontext():
            yield
    except peewee.IntegrityError as exc:
        raise Duplicate(f"a unique key was taken by a concurrent write: {exc}") from exc


@contextlib.contextmanager
def _turn_then(db: peewee.SqliteDatabase, transaction) -> Iterator[None]:
    with writer_turn(db), transaction:
        yield


@contextlib.contextmanager
def writer_turn(db: peewee.Database | None = None) -> Iterator[None]:
    """On a SQLite file, wait for this writer's turn at the database: every writer of every
    process (API, workers, CLI) queues on one lock file beside the database. Re-entrant within a
    thread; a no-op on PostgreSQL (row locks, several writers) and on an in-memory database.

    SQLite admits one writer; one that finds the write lock taken sleeps in the busy handler in
    growing steps (up to 100 ms), long after the lock is free again. A writer blocked on the
    lock file instead wakes as soon as the previous one is done, and the kernel releases the
    lock of a process that dies holding it.
    """
    db = db or database_proxy.obj
    turn = _turns.get(db.database) if isinstance(db, peewee.SqliteDatabase) else None
    if turn is None and isinstance(db, peewee.SqliteDatabase) and db.database not in ("", ":memory:"):
        with _turns_lock:
            turn = _turns.setdefault(db.database, _WriterTurn(f"{db.database}-writer"))
    if turn is None:
        yield
        return
    with turn:
        yield


class _WriterTurn:
    """A lock shared by the threads of this process (a thread lock) and by processes (`flock`
    on a lock file: it excludes other open files, not other threads of the same one)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.threads = threading.RLock()
        self.depth = threading.local()
        self.descriptor: int | None = None
        self.pid = 0

    def __enter__(self) -> None:
        self.threads.acquire()
        depth = getattr(self.depth, "value", 0)
        if depth == 0:
            try:
                fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
            except BaseException:
                self.threads.release()
                raise
        self.depth.value = depth + 1

    def __exit__(self, *exc: object) -> None:
        self.depth.value -= 1
        try:
            if self.depth.value == 0:
                fcntl.flock(self._descriptor(), fcntl.LOCK_UN)
        finally:
            self.threads.release()

    def _descriptor(self) -> int:
        if self.descriptor is None or self.pid != os.getpid():  # a forked child opens its own
            # Read-only suffices for flock, so processes of users who may write the database but
            # not this file still share it.
            self.descriptor = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
            self.pid = os.getpid()
        return self.descriptor


_turns: dict[str, _WriterTurn] = {}
_turns_lock = threading.Lock()


def new_id() -> str:
    """A UUIDv7 string: time-ordered, so ordering by id is ordering by creation (stable cursors).
    Within one process ids are strictly increasing (a 12-bit counter fills `rand_a` within a
    millisecond, RFC 9562 method 1).

    >>> len(new_id()), new_id()[14]
    (36, '7')
    """
    global _last_millis, _counter, _entropy
    with _id_lock:
        if len(_entropy) < 9:  # one system call for many ids
            _entropy = os.urandom(9 * 256)
        random = int.from_bytes(_entropy[:9], "big")  # 8 bytes for rand_b, 1 for a counter start
        _entropy = _entropy[9:]
        millis = time.time_ns() // 1_000_000
        if millis <= _last_millis:
            millis, _counter = _last_millis, _counter + 1
            if _counter > 0xFFF:
                millis, _counter = millis + 1, 0
        else:
            _counter = random >> 64  # a random start leaves room to count up
        _last_millis = millis
        counter = _counter
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | (random & ((1 << 62) - 1))
    text = f"{value:032x}"  # formatted directly: uuid.UUID would cost as much again
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_id_lock = threading.Lock()
_last_millis, _counter = 0, 0
_entropy = b""


def _forget_entropy() -> None:
    """A forked child must not reuse its parent's unused random bytes (the same ids)."""
    global _entropy
    _entropy = b""


os.register_at_fork(after_in_child=_forget_entropy)


def utcnow() -> datetime:
    return datetime.now(UTC)
