"""The scheduler's jobs of reports and operations: the rollup catches up with the journal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.settings import WorkerSettings
from engine.store.db import utcnow
from engine.store.reports import rollup
from engine.worker import scheduler
from engine.worker.operations_jobs import register_operations_jobs
from tests.engine.store.reports.ledger_history import History
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
    assert [job.name for job in jobs.jobs] == ["ledger_rollup"]
    assert jobs.jobs[0].count is not None and jobs.jobs[0].count(now) == 5
    assert scheduler.run_due(now, limit=2) == {"ledger_rollup": 5}
    assert rollup.count_behind() == 0 and rollup.verify_rollup(world.org.id) == []
    assert scheduler.run_due(now) == {"ledger_rollup": 0}
