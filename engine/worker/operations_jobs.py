"""The scheduler's jobs of reports and operations (registered beside the ledger's):

ledger_rollup   fold the journal's new entries into the hourly rollup (A187)
request_logs    prune request logs past ACCRUAL_REQUEST_LOG_RETENTION_DAYS (A190)
webhook_hours   prune webhook attempts per hour older than two days (A191)
"""

from __future__ import annotations

from datetime import datetime

from engine.settings import WorkerSettings
from engine.store.reports import rollup
from engine.store.request_logs import count_prunable, prune_request_logs
from engine.webhooks.circuit import prune_attempt_hours
from engine.worker.scheduler import register_job


def register_operations_jobs(settings: WorkerSettings) -> None:
    register_job("ledger_rollup", lambda now, limit: rollup.fold(now, limit), rollup.count_behind)

    def request_logs(now: datetime, limit: int) -> int:
        return prune_request_logs(now, limit, settings.request_log_retention_days)

    register_job("request_logs", request_logs, lambda now: count_prunable(now, settings.request_log_retention_days))
    register_job("webhook_hours", prune_attempt_hours)
