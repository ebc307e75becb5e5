from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from engine.store.db import StoreError, connect, database_url, new_id, writer_turn
from engine.store.models import Asset, Organisation


def test_amounts_and_times_round_trip_exactly(db):
    org = Organisation.create(name="acme")
    amount = Decimal("123456789012345678.123456789012345678")
    when = datetime(2026, 1, 1, 12, 0, 0, 1, tzinfo=timezone(timedelta(hours=2)))
    asset = Asset.create(organisation=org, symbol="PTS", name="Points", scale=18, max_transaction_amount=amount)
    Asset.update(created_at=when).where(Asset.id == asset.id).execute()
    stored = Asset.get_by_id(asset.id)
    assert stored.max_transaction_amount == amount
    assert str(stored.max_transaction_amount) == str(amount)
    assert stored.created_at == when and stored.created_at.tzinfo == UTC


def test_sqlite_pragmas_are_set(tmp_path):
    db = connect(f"sqlite:///{tmp_path / 'x.db'}")
    with db.connection_context():
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 10_000
    db.close_all()


def test_default_url_is_a_file_under_var(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert database_url() == "sqlite:///var/accrual.db"
    monkeypatch.setenv("DATABASE_URL", "postgresql://x@127.0.0.1/y")
    assert database_url() == "postgresql://x@127.0.0.1/y"


def test_unknown_scheme_is_a_clear_error():
    with pytest.raises(StoreError) as info:
        connect("mysql://root@localhost/x")
    assert info.value.code == "unsupported_database_url"


def test_ids_are_time_ordered_uuid7():
    first = new_id()
    later = [new_id() for _ in range(50)]
    assert all(len(value) == 36 and value[14] == "7" for value in later)
    assert sorted([first, *later]) == [first, *later]  # strictly increasing within a process
    assert len(set(later)) == len(later)
    parsed = uuid.UUID(later[0])
    assert (parsed.version, parsed.variant, str(parsed)) == (7, uuid.RFC_4122, later[0])
    assert abs((parsed.int >> 80) - time.time_ns() // 1_000_000) < 5_000  # milliseconds since the epoch


def test_a_forked_child_makes_other_ids_than_its_parent():
    import os

    new_id()  # the parent now holds unused random bytes
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(writer, new_id().encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    theirs = os.read(reader, 64).decode()
    os.close(reader)
    ours = new_id()
    assert len(theirs) == 36 and theirs[19:] != ours[19:]  # rand_b differs


_HOLD_TURN = """
import sys, time
from engine.store.db import connect, writer_turn
db = connect(sys.argv[1])
with writer_turn(db):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_writer_turn_excludes_another_process_until_it_is_done(tmp_path):
    url = f"sqlite:///{tmp_path / 'turn.db'}"
    db = connect(url)
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_TURN, url, "0.6"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.perf_counter()
        with writer_turn(db):
            waited = time.perf_counter() - started
        assert waited > 0.3  # it had to wait for the other process to let go
    finally:
        holder.wait(timeout=30)
        holder.stdout.close()
    db.close_all()


def test_writer_turn_is_reentrant_in_a_thread_and_exclusive_between_threads(tmp_path):
    db = connect(f"sqlite:///{tmp_path / 'turn.db'}")
    order: list[str] = []
    with writer_turn(db), writer_turn(db):  # nested: no deadlock
        other = threading.Thread(target=lambda: _take_turn(db, order))
        other.start()
        time.sleep(0.2)
        order.append("first done")
    other.join(timeout=10)
    assert order == ["first done", "second"]
    db.close_all()


def _take_turn(db, order: list[str]) -> None:
    with writer_turn(db):
        order.append("second")


def test_a_process_that_dies_holding_the_turn_releases_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'turn.db'}"
    db = connect(url)
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_TURN, url, "60"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait(timeout=30)
    holder.stdout.close()
    with writer_turn(db):  # would block for a minute if the lock outlived its process
        pass
    db.close_all()
