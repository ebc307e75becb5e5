"""Backtests asked for through the API, as rows: created with their wake-up, claimed once by a
worker, their progress and their outcome (A164).

    run = create_backtest(org_id, program_id, candidate_yaml, window_from=t0)   # PENDING, queued
    run = claim_backtest(run.id)                  # RUNNING, or None when another worker has it
    record_progress(run.id, done=500, total=2000) # also the run's heartbeat
    get_backtest(org_id, program_id, run.id)      # FAILED worker_lost once the heartbeat stops
    finish_backtest(run.id, result)               # COMPLETED; fail_backtest(run.id, code, message)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engine.queue import enqueue_backtest
from engine.store.db import utcnow, write_transaction
from engine.store.errors import NotFound
from engine.store.models import BacktestRun, Program

# A running backtest writes its progress twice a second (`engine/worker/backtests.py`); a run
# silent for this long has lost its worker.
HEARTBEAT_LOST = timedelta(seconds=60)


def create_backtest(
    organisation_id: str,
    program_id: str,
    candidate: str,
    *,
    against: str | None = None,
    window_from: datetime | None = None,
    window_to: datetime | None = None,
    last: int | None = None,
    sample: int = 20,
) -> BacktestRun:
    """A PENDING backtest of the organisation's program, and its wake-up, in one transaction."""
    with write_transaction():
        if not Program.select().where((Program.id == program_id) & (Program.organisation == organisation_id)).exists():
            raise NotFound(f"program {program_id} not found", code="program_not_found")
        run = BacktestRun.create(
            organisation=organisation_id,
            program=program_id,
            candidate=candidate,
            against=against,
            window_from=window_from,
            window_to=window_to or utcnow(),  # a window asked for now ends now, wherever it runs
            last=last,
            sample=sample,
        )
        enqueue_backtest(run.id)
    return run


def get_backtest(organisation_id: str, program_id: str, backtest_id: str) -> BacktestRun:
    """The run; one RUNNING without a heartbeat for `HEARTBEAT_LOST` is FAILED `worker_lost` from
    now on (its worker died: the run is never taken up again, ask for a new one)."""
    run = _find(organisation_id, program_id, backtest_id)
    if run.status == "RUNNING" and run.updated_at < utcnow() - HEARTBEAT_LOST:
        with write_transaction():
            lost = (
                BacktestRun.update(
                    status="FAILED",
                    error_code="worker_lost",
                    error_message="the worker running this backtest stopped",
                    completed_at=utcnow(),
                    updated_at=utcnow(),
                )
                .where(
                    (BacktestRun.id == run.id)
                    & (BacktestRun.status == "RUNNING")
                    & (BacktestRun.updated_at < utcnow() - HEARTBEAT_LOST)
                )
                .execute()
            )
        if lost:
            run = _find(organisation_id, program_id, backtest_id)
    return run


def _find(organisation_id: str, program_id: str, backtest_id: str) -> BacktestRun:
    found = (
        BacktestRun.select()
        .where(
            (BacktestRun.id == backtest_id)
            & (BacktestRun.organisation == organisation_id)
            & (BacktestRun.program == program_id)
        )
        .first()
    )
    if found is None:
        raise NotFound(f"backtest {backtest_id} not found", code="backtest_not_found")
    return found


def claim_backtest(backtest_id: str) -> BacktestRun | None:
    """PENDING -> RUNNING for the worker that calls it; None when it is not PENDING any more (a
    second wake-up, or another worker)."""
    with write_transaction():
        claimed = (
            BacktestRun.update(status="RUNNING", updated_at=utcnow())
            .where((BacktestRun.id == backtest_id) & (BacktestRun.status == "PENDING"))
            .execute()
        )
    return BacktestRun.get_by_id(backtest_id) if claimed else None


def record_progress(backtest_id: str, *, done: int, total: int | None) -> None:
    with write_transaction():
        BacktestRun.update(done=done, total=total, updated_at=utcnow()).where(BacktestRun.id == backtest_id).execute()


def finish_backtest(backtest_id: str, result: dict[str, Any], *, done: int, total: int) -> None:
    now = utcnow()
    with write_transaction():
        BacktestRun.update(
            status="COMPLETED", result=result, done=done, total=total, completed_at=now, updated_at=now
        ).where(BacktestRun.id == backtest_id).execute()


def fail_backtest(backtest_id: str, code: str, message: str) -> None:
    now = utcnow()
    with write_transaction():
        BacktestRun.update(
            status="FAILED", error_code=code, error_message=message[:2000], completed_at=now, updated_at=now
        ).where(BacktestRun.id == backtest_id).execute()
