"""The queue's consumer, played in the test's thread, and worker settings without waits.

`drain(queue)` takes every due task off the real queue and runs it in this thread, as a Huey
worker thread would.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.queue import Queue
from engine.settings import WorkerSettings

FAST = WorkerSettings(
    event_retry_delays_s=(0, 0),
    event_lease_s=30,
    reconcile_stale_s=5,
    webhook_retry_delays_s=(0, 0, 0),
    webhook_timeout_s=2,
    webhooks_allow_private=True,
)


def drain(queue: Queue, limit: int = 1000) -> int:
    """Run queued tasks in this thread until the queue is empty; returns how many ran."""
    ran = 0
    while ran < limit:
        task = queue.huey.dequeue()
        if task is None:
            return ran
        if task.eta is not None and task.eta > datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=1):
            queue.huey.add_schedule(task)
            continue
        task.execute()  # not huey.execute(): a task's exception must fail the test, not be logged
        ran += 1
    raise AssertionError(f"queue still busy after {limit} tasks")
