"""Real `accrual` processes on one SQLite file, for the tests that kill them half way: the clock's
due work (`accrual sweep`, the worker's scheduler) must apply each item once whatever the crash.

    template = build_template(tmp_path_factory.mktemp("template"), fill)
    path = copy_database(template, tmp_path)
    kill_half_way(start_worker(path, log), log, progress=lambda: expired(path), total=LOTS)
    output = sweep_again(path, until)
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from engine.cli.bench.pipeline import wait_until
from engine.store.db import close_all, connect
from engine.store.migrations import upgrade

ACCRUAL = str(Path(sys.executable).with_name("accrual"))


def build_template(directory: Path, build: Callable[[], None]) -> Path:
    """A schema-current SQLite file in `directory` filled by `build` (run on its connection), for
    the tests of a module to copy."""
    path = directory / "accrual.db"
    db = connect(f"sqlite:///{path}")
    upgrade(db)
    with db.connection_context():
        build()
    close_all(db)
    return path


def copy_database(template: Path, directory: Path) -> Path:
    """A copy of the template (sqlite3's backup: the copy is whole whatever the WAL holds)."""
    path = directory / "accrual.db"
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


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        process.wait(timeout=30)


def rows(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(path, timeout=30) as conn:
        found = conn.execute(sql).fetchall()
    conn.close()
    return found


def kill_half_way(
    process: subprocess.Popen, log: Path, *, progress: Callable[[], int], total: int, timeout_s: float = 180
) -> int:
    """SIGKILL `process` once `progress()` reaches half of `total`; returns how far it had got,
    which must be short of `total` (else nothing was interrupted)."""
    assert wait_until(lambda: progress() >= total // 2 or process.poll() is not None, timeout_s=timeout_s), (
        log.read_text()
    )
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL, "it ended before it was killed: " + log.read_text()
    done = progress()
    assert total // 2 <= done < total, f"{done} of {total} done when it was killed: nothing was interrupted"
    return done


def sweep_again(path: Path, until: str, *, timeout_s: float = 180) -> str:
    """`accrual sweep --until` run to its end; its output."""
    again = subprocess.run(
        [ACCRUAL, "sweep", "--until", until], env=environment(path), capture_output=True, text=True, timeout=timeout_s
    )
    assert again.returncode == 0, again.stdout + again.stderr
    return again.stdout


def verify(path: Path) -> None:
    """`accrual verify` passes on the file."""
    checked = subprocess.run(
        [ACCRUAL, "verify", "--database-url", f"sqlite:///{path}"], capture_output=True, text=True, timeout=180
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
