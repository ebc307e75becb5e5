"""The scheduler's jobs of reports and operations (registered beside the ledger's):

ledger_rollup   fold the journal's new entries into the hourly rollup (A187)
"""

from __future__ import annotations

from engine.settings import WorkerSettings
from engine.store.reports import rollup
from engine.worker.scheduler import register_job


def register_operations_jobs(settings: WorkerSettings) -> None:
    register_job("ledger_rollup", lambda now, limit: rollup.fold(now, limit), rollup.count_behind)
