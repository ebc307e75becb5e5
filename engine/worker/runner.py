"""The `accrual worker` process: a Huey consumer, the reconciler thread and the scheduler thread.

Any number of worker processes may run against one database. SIGTERM and SIGINT are graceful:
running tasks finish (up to `shutdown_timeout_s`), then the process exits; whatever a harder stop
interrupts is left to leases and the reconciler. The reconciler runs once at start (so a restart
after a crash picks up at once what is already due) and then every `reconcile_interval_s`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from peewee import Database

from engine.queue import Queue, configure_queue, connection
from engine.settings import WorkerSettings
from engine.store.checkpoint import start_background_checkpoints
from engine.store.db import close_all, connect
from engine.store.migrations import require_current
from engine.worker.operations_jobs import register_operations_jobs
from engine.worker.reconciler import reconcile
from engine.worker.scheduler import Scheduler, register_automation_jobs, register_ledger_jobs, register_tier_jobs
from engine.worker.tasks import register_task_bodies

log = logging.getLogger("accrual.worker")


@dataclass(frozen=True)
class WorkerOptions:
    """How one worker process runs (the `accrual worker` flags)."""

    threads: int = 2  # Huey worker threads; scale further with more processes, not forked workers
    reconciler: bool = True
    scheduler: bool = True  # due work of the clock (D33): one per deployment is enough; more are safe
    poll_max_s: float = 1.0  # the longest an idle SQL queue waits before looking again
    shutdown_timeout_s: float = 30.0


class Reconciler(threading.Thread):
    """Calls `reconcile` every interval until stopped; a failing pass is logged, never fatal."""

    def __init__(self, queue: Queue) -> None:
        super().__init__(name="accrual-reconciler", daemon=True)
        self.queue = queue
        self.stopped = threading.Event()

    def run(self) -> None:
        while True:
            self.run_once()
            if self.stopped.wait(self.queue.settings.reconcile_interval_s):
                return

    def run_once(self) -> None:
        try:
            with connection(self.queue.database):
                report = reconcile(self.queue.settings)
            if report.total:
                log.info("reconciler: %s", report)
        except Exception:
            log.exception("reconciler pass failed")


def _require_current_schema(database: Database) -> None:
    """Refuse to start on a database `accrual db upgrade` has not brought up to date (D4): the
    worker never creates tables itself."""
    with database.connection_context():
        require_current(database, "the worker")


def run_worker(
    options: WorkerOptions,
    *,
    database_url: str | None = None,
    queue_url: str | None = None,
    settings: WorkerSettings | None = None,
) -> None:
    """Run until a stop signal. Blocks.

    >>> run_worker(WorkerOptions(threads=4), database_url="sqlite:///var/accrual.db")
    """
    database = connect(database_url)
    _require_current_schema(database)
    checkpointer = start_background_checkpoints(database)
    register_task_bodies()
    queue = configure_queue(database, queue_url, settings)
    consumer = queue.huey.create_consumer(
        workers=options.threads,
        worker_type="thread",  # forked workers would inherit the parent's pooled connections
        periodic=False,  # periodic work is the reconciler thread, which needs sub-minute intervals
        initial_delay=0.02,
        backoff=1.5,
        max_delay=options.poll_max_s,
        graceful_signal="TERM",
        shutdown_timeout=options.shutdown_timeout_s,
        check_worker_health=True,
    )
    reconciler = Reconciler(queue) if options.reconciler else None
    if reconciler is not None:
        reconciler.start()
    register_ledger_jobs(queue.settings)
    register_tier_jobs(queue.settings)
    register_operations_jobs(queue.settings)
    register_automation_jobs()
    scheduler = Scheduler(database, queue.settings.scheduler_interval_s) if options.scheduler else None
    if scheduler is not None:
        scheduler.start()
    log.info("worker started: %d thread(s), queue %s", options.threads, type(queue.huey.storage).__name__)
    try:
        consumer.run()
    finally:
        for thread in (reconciler, scheduler):
            if thread is not None:
                thread.stopped.set()
                thread.join(timeout=5)
        if checkpointer is not None:
            checkpointer.stop()
        close_all(database)
