"""Backtests against storage: one snapshot replayed with its progress, and the queue's
`run_backtest` task recording the difference, or the failure, on its row."""

from __future__ import annotations

import gc

import pytest

from engine.errors import EngineError
from engine.store.backtests import create_backtest
from engine.store.models import BacktestRun
from engine.worker.backtests import compiled, replay_history, run_backtest_task
from tests.engine.consumer import drain

CANDIDATE = """
program: {key: loyalty, name: Loyalty}
assets:
  - {symbol: PTS, name: Points, scale: 0}
rules:
  - name: earn
    condition: "true"
    actions:
      - {type: CREDIT, asset_id: PTS, amount: "event.amount * 3.0"}
"""


@pytest.fixture
def history(world, queue):
    world.rule("earn", amount="event.amount")
    for key, who in (("k1", "alice"), ("k2", "bob")):
        world.event(who, key=key, amount=2.0)
        drain(queue)
    return world


def test_a_replay_reports_its_progress_and_reproduces_the_record(history, db):
    seen: list[tuple[int, int]] = []
    window, difference = replay_history(
        db, history.program.id, compiled(CANDIDATE, "candidate"), progress=lambda *step: seen.append(step)
    )
    assert seen == [(0, 2), (1, 2), (2, 2)] and window.program_id == history.program.id
    assert difference.reproduced and difference.changed_events == 2
    assert {change.external_id for change in difference.participant_changes} == {"alice", "bob"}


def test_a_replay_runs_with_the_heap_it_found_frozen_and_hands_it_back(history, db):
    frozen: list[int] = []
    assert gc.get_freeze_count() == 0
    replay_history(
        db,
        history.program.id,
        compiled(CANDIDATE, "candidate"),
        progress=lambda *_: frozen.append(gc.get_freeze_count()),
    )
    assert frozen and all(count > 0 for count in frozen)  # the collector's full passes skip them
    assert gc.get_freeze_count() == 0  # and every object is the collector's again
    with pytest.raises(EngineError):  # a replay that fails hands them back too
        replay_history(db, "no-such-program", compiled(CANDIDATE, "candidate"))
    assert gc.get_freeze_count() == 0


def test_the_task_records_the_difference_once(history, queue):
    run = create_backtest(history.org.id, history.program.id, CANDIDATE)
    run_backtest_task(queue, run.id)
    done = BacktestRun.get_by_id(run.id)
    assert done.status == "COMPLETED" and (done.done, done.total) == (2, 2)
    assert done.result["reproduced"] is True and done.result["assets"][0]["liability_change"] == "8"
    run_backtest_task(queue, run.id)  # already done: nothing changes
    assert BacktestRun.get_by_id(run.id).updated_at == done.updated_at


def test_a_bundle_that_no_longer_loads_fails_the_run_with_its_code(history, queue):
    run = create_backtest(history.org.id, history.program.id, "program: {key: x}\n")
    run_backtest_task(queue, run.id)
    failed = BacktestRun.get_by_id(run.id)
    assert failed.status == "FAILED" and failed.error_code == "invalid_bundle"
    assert "candidate:1:" in failed.error_message
    with pytest.raises(EngineError):
        compiled("rules: [", "baseline")
