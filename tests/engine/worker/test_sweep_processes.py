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

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from engine.cli.bench.pipeline import wait_until
from engine.cli.bench.sweep import build_expiring_lots
from engine.store.db import close_all, connect, utcnow
from engine.store.migrations import upgrade

pytestmark = pytest.mark.slow

HOLDERS, PER_HOLDER, AMOUNT = 2000, 10, 10
LOTS = HOLDERS * PER_HOLDER
ACCRUAL = str(Path(sys.executable).with_name("accrual"))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sweep-template") / "accrual.db"
    db = connect(f"sqlite:///{path}")
    upgrade(db)
    now = utcnow()
    with db.connection_context():
        build_expiring_lots(
            HOLDERS,
            PER_HOLDER,
            earned_at=now - timedelta(days=2),
            expires_at=now - timedelta(days=1),
            amount=Decimal(AMOUNT),
        )
    close_all(db)
    return path


@pytest.fixture
def database(template, tmp_path) -> Path:
    """A copy of the template (sqlite3's backup: the copy is whole whatever the WAL holds)."""
    path = tmp_path / "accrual.db"
    with sqlite3.connect(template) as source, sqlite3.connect(path) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    return path


def environment(path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path}",
        "QUEUE_URL": "sql",
        "ACCRUAL_SCHEDULER_INTERVAL_S": "0.2",
    }


def start(path: Path, log: Path, *command: str) -> subprocess.Popen:
    with open(log, "ab") as output:  # the child keeps its own descriptor
        return subprocess.Popen([ACCRUAL, *command], env=environment(path), stdout=output, stderr=subprocess.STDOUT)


def start_worker(path: Path, log: Path) -> subprocess.Popen:
    return start(path, log, "worker", "-w", "1", "--poll-max", "0.1", "--no-reconciler")


def rows(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(path, timeout=30) as conn:
        found = conn.execute(sql).fetchall()
    conn.close()
    return found


def expired(path: Path) -> int:
    return rows(path, "SELECT COUNT(*) FROM lot WHERE status = 'EXPIRED'")[0][0]


def kill_half_way(path: Path, process: subprocess.Popen, log: Path) -> int:
    """SIGKILL `process` once about half the lots have expired; returns how many had."""
    assert wait_until(lambda: expired(path) >= LOTS // 2 or process.poll() is not None, timeout_s=180), log.read_text()
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL, "it ended before it was killed: " + log.read_text()
    done = expired(path)
    assert LOTS // 2 <= done < LOTS, f"{done} of {LOTS} expired when it was killed: nothing was interrupted"
    return done


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        process.wait(timeout=30)


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
    verify = subprocess.run(
        [ACCRUAL, "verify", "--database-url", f"sqlite:///{path}"], capture_output=True, text=True, timeout=180
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_accrual_sweep_killed_half_way_and_run_again_expires_every_lot_once(database, tmp_path):
    until = (utcnow() + timedelta(seconds=1)).isoformat()
    log = tmp_path / "sweep.log"
    kill_half_way(database, start(database, log, "sweep", "--until", until), log)
    again = subprocess.run(
        [ACCRUAL, "sweep", "--until", until], env=environment(database), capture_output=True, text=True, timeout=180
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "lots: " in again.stdout
    assert_every_lot_expired_once(database)


def test_a_worker_killed_half_way_and_restarted_expires_every_lot_once(database, tmp_path):
    kill_half_way(database, start_worker(database, tmp_path / "worker-1.log"), tmp_path / "worker-1.log")
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
        kill_half_way(database, first, tmp_path / "a.log")
        assert second.poll() is None, (tmp_path / "b.log").read_text()  # it swept beside the first
        processes.append(start_worker(database, tmp_path / "c.log"))  # the first, restarted
        assert wait_until(lambda: expired(database) == LOTS, timeout_s=180), (tmp_path / "b.log").read_text()
    finally:
        stop(*processes)
    assert_every_lot_expired_once(database)
