"""The scheduler's jobs of reports and operations: the rollup catches up with the journal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.settings import WorkerSettings
from engine.store.db import utcnow
from engine.store.models import RequestLog
from engine.store.reports import rollup
from engine.store.request_logs import write_request_logs
from engine.worker import scheduler
from engine.worker.operations_jobs import register_operations_jobs
from tests.engine.store.reports.ledger_history import History, id_at
from tests.engine.world import World


@pytest.fixture
def jobs(monkeypatch):
    registry = scheduler.Registry()
    monkeypatch.setattr(scheduler, "JOBS", registry)
    return registry


def test_the_rollup_job_folds_every_entry_in_batches(db, jobs):
    world = World()
    history = History(world)
    now = utcnow()
    for minute in range(5):
        history.post("CREDIT", "PTS", "1", at=now - timedelta(minutes=minute))
    register_operations_jobs(WorkerSettings())
    assert [job.name for job in jobs.jobs] == ["ledger_rollup", "request_logs", "webhook_hours"]
    assert jobs.jobs[0].count is not None and jobs.jobs[0].count(now) == 5
    assert scheduler.run_due(now, limit=2) == {"ledger_rollup": 5, "request_logs": 0, "webhook_hours": 0}
    assert rollup.count_behind() == 0 and rollup.verify_rollup(world.org.id) == []
    assert scheduler.run_due(now) == {"ledger_rollup": 0, "request_logs": 0, "webhook_hours": 0}


def test_request_logs_past_the_retention_are_pruned(db, jobs):
    world = World()
    now = utcnow()
    write_request_logs(
        [
            {
                "id": id_at(now - timedelta(days=age)),
                "organisation": world.org.id,
                "request_id": f"req_{age}",
                "method": "GET",
                "path": "/v1/programs",
                "status_code": 200,
                "duration_ms": 1.0,
            }
            for age in (10, 8, 1)
        ]
    )
    register_operations_jobs(WorkerSettings(request_log_retention_days=7))
    assert scheduler.run_due(now)["request_logs"] == 2
    assert RequestLog.select().count() == 1
