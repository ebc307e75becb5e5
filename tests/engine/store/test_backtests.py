"""Backtest rows: created with their wake-up for the organisation's own program, claimed once,
their progress and outcome recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.store.backtests import (
    HEARTBEAT_LOST,
    claim_backtest,
    create_backtest,
    fail_backtest,
    finish_backtest,
    get_backtest,
    record_progress,
)
from engine.store.db import utcnow
from engine.store.errors import NotFound
from engine.store.models import BacktestRun, Organisation


def test_a_backtest_is_created_queued_claimed_once_and_finished(world, queue):
    run = create_backtest(world.org.id, world.program.id, "program: {key: a, name: A}\n", last=50)
    assert run.status == "PENDING" and run.window_to is not None
    assert [task.args[0] for task in queue.huey.pending() if task.name == "run_backtest"] == [run.id]
    assert claim_backtest(run.id).status == "RUNNING"
    assert claim_backtest(run.id) is None
    record_progress(run.id, done=3, total=9)
    assert (BacktestRun.get_by_id(run.id).done, BacktestRun.get_by_id(run.id).total) == (3, 9)
    finish_backtest(run.id, {"empty": True}, done=9, total=9)
    done = get_backtest(world.org.id, world.program.id, run.id)
    assert done.status == "COMPLETED" and done.result == {"empty": True} and done.completed_at is not None


def test_a_failure_is_kept_and_another_organisation_sees_nothing(world, queue):
    other = Organisation.create(name="globex")
    with pytest.raises(NotFound) as refused:
        create_backtest(other.id, world.program.id, "x")
    assert refused.value.code == "program_not_found"
    run = create_backtest(world.org.id, world.program.id, "program: {key: a, name: A}\n")
    fail_backtest(run.id, "empty_window", "no events")
    failed = BacktestRun.get_by_id(run.id)
    assert (failed.status, failed.error_code, failed.error_message) == ("FAILED", "empty_window", "no events")
    with pytest.raises(NotFound) as hidden:
        get_backtest(other.id, world.program.id, run.id)
    assert hidden.value.code == "backtest_not_found"


def test_a_running_backtest_without_a_heartbeat_is_reported_lost(world, queue):
    run = create_backtest(world.org.id, world.program.id, "program: {key: a, name: A}\n")
    claim_backtest(run.id)
    record_progress(run.id, done=1, total=10)
    assert get_backtest(world.org.id, world.program.id, run.id).status == "RUNNING"  # beating
    silent = utcnow() - HEARTBEAT_LOST - timedelta(seconds=1)
    BacktestRun.update(updated_at=silent).where(BacktestRun.id == run.id).execute()
    lost = get_backtest(world.org.id, world.program.id, run.id)
    assert (lost.status, lost.error_code) == ("FAILED", "worker_lost") and lost.completed_at is not None
    assert claim_backtest(run.id) is None  # never taken up again
