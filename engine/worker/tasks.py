"""The bodies of the queue's tasks, registered in the processes that run them: `accrual worker`,
and any process that runs tasks in-process (`QUEUE_URL=memory://`, the tests' drains).

    register_task_bodies()
"""

from __future__ import annotations

from engine.queue import register_task_body
from engine.webhooks.delivery import deliver_task
from engine.worker.backtests import run_backtest_task
from engine.worker.processor import process_event_task


def register_task_bodies() -> None:
    """Make `process_event`, `deliver_webhook` and `run_backtest` run here (idempotent)."""
    register_task_body("process_event", process_event_task)
    register_task_body("deliver_webhook", deliver_task)
    register_task_body("run_backtest", run_backtest_task)
