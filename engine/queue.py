"""The task queue: one Huey instance built from configuration, and the tasks the worker runs.

A task is only a wake-up call. The event row (and the webhook delivery row) is the truth: a task
that finds nothing to do is a no-op, and a task that is lost (Huey executes at most once, and a
`kill -9` loses the task in flight) is made good by the reconciler. See `engine/worker/`.

Backends, chosen by `QUEUE_URL`:

    (unset), "sql"      SqlHuey on the application database: the queue row is written in the
                        caller's transaction, so an event and its wake-up commit or roll back
                        together (D3)
    redis://...         RedisHuey; enqueue is deferred until the caller's transaction commits
    memory://           MemoryHuey, immediate: tasks run in-process right after the commit (tests)

Queue tables are created only by `accrual db upgrade` (`create_queue_tables`), never at import or
process start: concurrent `CREATE TABLE` from several processes fails on PostgreSQL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huey import Huey, MemoryHuey
from huey.api import TaskWrapper
from huey.constants import EmptyData
from huey.contrib.sql_huey import SqlStorage
from peewee import Database

from engine.errors import EngineError
from engine.settings import WorkerSettings

QUEUE_NAME = "accrual"


class QueueError(EngineError):
    """The queue is misconfigured or not configured (`queue_url_invalid`, `queue_not_configured`)."""

    code = "queue"


@dataclass(frozen=True)
class Queue:
    """A configured queue: the Huey instance, the database the tasks work on, and the tasks."""

    huey: Huey
    database: Database
    transactional: bool  # True when the queue rows live in `database` (SqlHuey)
    process_event: TaskWrapper
    deliver_webhook: TaskWrapper
    append_line: TaskWrapper
    run_backtest: TaskWrapper
    settings: WorkerSettings = field(default_factory=WorkerSettings)


_current: Queue | None = None


class ReadFirstSqlStorage(SqlStorage):
    """SqlHuey's storage, reading before it writes: taking a task or popping a key opens a write
    transaction only when there is something to take.

    After every task Huey pops the task's revocation key, which almost never exists, and an idle
    consumer thread polls for tasks. As write transactions, both would wait on SQLite for the
    write lock, in SQLite's busy handler (sleeping up to 100 ms at a time), whenever another
    thread or the API holds it, and the consumer thread would take no task meanwhile (A66). A
    read needs no lock under WAL, and finding nothing is what the transaction would find at that
    moment.
    """

    def dequeue(self) -> bytes | None:
        if not self._exists(self.Task):
            return None
        return super().dequeue()

    def pop_data(self, key: str) -> Any:
        if not self._exists(self.KV, key=key):
            return EmptyData
        return super().pop_data(key)

    def _exists(self, model: Any, **equal: str) -> bool:
        """A row of this queue in `model`'s table whose columns equal `equal`."""
        self.check_conn()
        columns = {"queue": self.name, **equal}
        where = " AND ".join(f'"{column}" = {self.database.param}' for column in columns)
        sql = f'SELECT 1 FROM "{model._meta.table_name}" WHERE {where} LIMIT 1'
        return self.database.execute_sql(sql, tuple(columns.values())).fetchone() is not None


def sql_huey(database: Database) -> Huey:
    """SqlHuey on the application database (with `ReadFirstSqlStorage`)."""
    return Huey(
        QUEUE_NAME, storage_class=ReadFirstSqlStorage, database=database, create_tables=False, results=False, utc=True
    )


def build_huey(database: Database, queue_url: str | None = None) -> tuple[Huey, bool]:
    """The Huey instance for `queue_url` and whether its enqueue is transactional.

    >>> huey, transactional = build_huey(SqliteDatabase(":memory:"), "memory://")
    >>> transactional
    False
    """
    url = (queue_url or "").strip()
    if url in ("", "sql"):
        return sql_huey(database), True
    if url.startswith(("redis://", "rediss://", "unix://")):
        from huey import RedisHuey  # imported here: the redis package is an optional extra

        try:
            return RedisHuey(QUEUE_NAME, url=url, results=False, utc=True), False
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise QueueError(
                "QUEUE_URL is redis:// but the redis package is not installed (pip install 'accrual[redis]')",
                code="queue_url_invalid",
            ) from exc
    if url == "memory://":
        return MemoryHuey(QUEUE_NAME, immediate=True, results=False, utc=True), False
    raise QueueError(
        f"unsupported QUEUE_URL {url!r}: use 'sql' (the default), 'redis://...' or 'memory://'",
        code="queue_url_invalid",
        queue_url=url,
    )


def configure_queue(database: Database, queue_url: str | None = None, settings: WorkerSettings | None = None) -> Queue:
    """Build the queue for this process and make it the one `enqueue_event` uses.

    Every process (API, worker, CLI) calls this once at start with the application database.

    >>> queue = configure_queue(connect("sqlite:///var/accrual.db"))   # SqlHuey on the app DB
    """
    global _current
    huey, transactional = build_huey(database, queue_url)
    _current = Queue(
        huey=huey,
        database=database,
        transactional=transactional,
        process_event=huey.task(name="process_event")(_dispatcher("process_event")),
        deliver_webhook=huey.task(name="deliver_webhook")(_dispatcher("deliver_webhook")),
        append_line=huey.task(name="append_line")(_dispatcher("append_line")),
        run_backtest=huey.task(name="run_backtest")(_dispatcher("run_backtest")),
        settings=settings or WorkerSettings.from_env(),
    )
    return _current


def current_queue() -> Queue:
    """The queue of this process; `queue_not_configured` before `configure_queue`."""
    if _current is None:
        raise QueueError(
            "the task queue is not configured: call engine.queue.configure_queue(database) first",
            code="queue_not_configured",
        )
    return _current


def reset_queue() -> None:
    """Forget the configured queue (tests build a fresh one per database)."""
    global _current
    _current = None


def create_queue_tables(database: Database) -> None:
    """Create the SqlHuey tables (`kv`, `schedule`, `task`, `counter`) if missing.

    Called by `accrual db upgrade` only. Idempotent.
    """
    storage = sql_huey(database).storage
    # Not storage.create_tables(): that opens and closes the connection itself, which would break
    # the caller's transaction (the schema upgrade runs each step in one).
    database.create_tables([storage.KV, storage.Schedule, storage.Task, storage.Counter], safe=True)


def enqueue_event(event_id: str, *, delay_s: float = 0) -> None:
    """Wake a worker for `event_id`. Call it inside the transaction that stored the event.

    With SqlHuey the wake-up commits (or rolls back) with that transaction; with the other
    backends it is sent once the transaction commits, and the reconciler covers a crash in between.

    >>> with db.atomic():
    ...     event = Event.create(...)
    ...     enqueue_event(event.id)
    """
    queue = current_queue()
    submit(queue, queue.process_event, str(event_id), delay_s=delay_s)


def enqueue_delivery(delivery_id: str, *, delay_s: float = 0) -> None:
    """Wake a worker to send webhook delivery `delivery_id` (same transaction rules as events)."""
    queue = current_queue()
    submit(queue, queue.deliver_webhook, str(delivery_id), delay_s=delay_s)


def enqueue_backtest(backtest_id: str) -> None:
    """Wake a worker to run backtest `backtest_id` (same transaction rules as events)."""
    queue = current_queue()
    submit(queue, queue.run_backtest, str(backtest_id))


def submit(queue: Queue, task: TaskWrapper, *args: Any, delay_s: float = 0) -> None:
    """Send `task(*args)` honouring the backend's transaction rules (see `enqueue_event`)."""

    def send() -> None:
        if delay_s > 0:
            task.schedule(args=args, delay=delay_s)
        else:
            task(*args)

    if queue.transactional:
        send()
    else:
        # Not in the caller's transaction: send after it commits, so a worker never wakes up
        # before the row it is woken for is visible (peewee runs it at once outside a transaction).
        _after_commit(queue.database, send)


def _after_commit(database: Database, fn: Callable[[], Any]) -> None:
    if database.is_closed() or database.transaction_depth() == 0:
        fn()
    else:
        database.after_commit(fn)


@contextlib.contextmanager
def connection(database: Database) -> Iterator[None]:
    """Use this thread's open connection, or open one for the block and close it after.

    Tasks run in consumer threads (no connection yet) and, in immediate mode, in the thread
    that just committed (whose connection belongs to its caller and must stay open).
    """
    if not database.is_closed():
        yield
        return
    with database.connection_context():
        yield


# --- task bodies ---------------------------------------------------------------------------------
# The queue knows its tasks by name only; the process that runs them registers their bodies
# (`engine.worker.tasks.register_task_bodies`), so this module imports nothing above it.

TaskBody = Callable[..., None]
_bodies: dict[str, TaskBody] = {}


def register_task_body(name: str, body: TaskBody) -> None:
    """Make `body(queue, *args)` what task `name` runs in this process.

    >>> register_task_body("process_event", process_event_task)
    """
    _bodies[name] = body


def _dispatcher(name: str) -> Callable[..., None]:
    def run(*args: Any) -> None:
        body = _bodies.get(name)
        if body is None:
            raise QueueError(
                f"task {name!r} has no body in this process: run it in `accrual worker`",
                code="task_not_registered",
                task=name,
            )
        body(current_queue(), *args)

    run.__name__ = name
    return run


def append_line(queue: Queue, path: str, line: str) -> None:
    """The benchmark's reference task: the cheapest observable work a task can do."""
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


register_task_body("append_line", append_line)
