"""Real processes sweeping 20,000 expired lots on one SQLite file: `accrual sweep` and `accrual
worker` (its scheduler thread) killed with SIGKILL half way and started again, and two workers
sweeping at once, one of them killed half way. Whatever the crash or the company, every lot
expires exactly once (one EXPIRY entry and one lot_take row each), `accrual verify` passes and
every participant's balance is zero.

The lots are credited through the ledger once per module (2,000 participants with 10 lots each,
earned two days ago and expired a day ago, so the worker's wall clock finds them due) and each
test sweeps a copy of that database.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from engine.cli.bench.pipeline import wait_until
from engine.cli.bench.sweep import build_expiring_lots
from engine.store.db import utcnow
from tests.engine.worker.processes import (
    build_template,
    copy_database,
    kill_half_way,
    rows,
    start,
    start_worker,
    stop,
    sweep_again,
    verify,
)

pytestmark = pytest.mark.slow

HOLDERS, PER_HOLDER, AMOUNT = 2000, 10, 10
LOTS = HOLDERS * PER_HOLDER


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    now = utcnow()
    return build_template(
        tmp_path_factory.mktemp("sweep-template"),
        lambda: build_expiring_lots(
            HOLDERS,
            PER_HOLDER,
            earned_at=now - timedelta(days=2),
            expires_at=now - timedelta(days=1),
            amount=Decimal(AMOUNT),
        ),
    )


@pytest.fixture
def database(template, tmp_path) -> Path:
    return copy_database(template, tmp_path)


def expired(path: Path) -> int:
    return rows(path, "SELECT COUNT(*) FROM lot WHERE status = 'EXPIRED'")[0][0]


def assert_every_lot_expired_once(path: Path) -> None:
    assert rows(path, "SELECT status, COUNT(*) FROM lot GROUP BY status") == [("EXPIRED", LOTS)]
    assert rows(path, "SELECT COUNT(*) FROM journal_entry WHERE action_type = 'EXPIRY'") == [(LOTS,)]
    # one EXPIRY take per lot, by the entry the lot names, of the lot's whole amount
    takes = rows(
        path,
        "SELECT t.lot_id, t.entry_id, l.expired_entry_id, t.amount, l.amount FROM lot_take AS t "
        "JOIN journal_entry AS j ON j.id = t.entry_id JOIN lot AS l ON l.id = t.lot_id WHERE j.action_type = 'EXPIRY'",
    )
    assert len(takes) == len({lot_id for lot_id, *_ in takes}) == LOTS
    assert all(entry == named and Decimal(took) == -Decimal(amount) for _, entry, named, took, amount in takes)
    balances = rows(path, "SELECT entity_type, entity_id, balance FROM account")
    assert {Decimal(balance) for kind, _, balance in balances if kind == "PARTICIPANT"} == {Decimal(0)}
    (breakage,) = [
        Decimal(balance) for kind, name, balance in balances if (kind, name) == ("SYSTEM", "SYSTEM_BREAKAGE")
    ]
    assert breakage == LOTS * AMOUNT
    verify(path)


def test_accrual_sweep_killed_half_way_and_run_again_expires_every_lot_once(database, tmp_path):
    until = (utcnow() + timedelta(seconds=1)).isoformat()
    log = tmp_path / "sweep.log"
    kill_half_way(start(database, log, "sweep", "--until", until), log, progress=lambda: expired(database), total=LOTS)
    assert "lots: " in sweep_again(database, until)
    assert_every_lot_expired_once(database)


def test_a_worker_killed_half_way_and_restarted_expires_every_lot_once(database, tmp_path):
    kill_half_way(
        start_worker(database, tmp_path / "worker-1.log"),
        tmp_path / "worker-1.log",
        progress=lambda: expired(database),
        total=LOTS,
    )
    restarted = start_worker(database, tmp_path / "worker-2.log")
    try:
        assert wait_until(lambda: expired(database) == LOTS, timeout_s=180), (tmp_path / "worker-2.log").read_text()
    finally:
        stop(restarted)
    assert_every_lot_expired_once(database)


def test_two_workers_sweeping_at_once_one_killed_half_way_expire_every_lot_once(database, tmp_path):
    first = start_worker(database, tmp_path / "a.log")
    second = start_worker(database, tmp_path / "b.log")
    processes = [first, second]
    try:
        kill_half_way(first, tmp_path / "a.log", progress=lambda: expired(database), total=LOTS)
        assert second.poll() is None, (tmp_path / "b.log").read_text()  # it swept beside the first
        processes.append(start_worker(database, tmp_path / "c.log"))  # the first, restarted
        assert wait_until(lambda: expired(database) == LOTS, timeout_s=180), (tmp_path / "b.log").read_text()
    finally:
        stop(*processes)
    assert_every_lot_expired_once(database)
