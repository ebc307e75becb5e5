from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from engine.store.db import StoreError, connect, database_url, new_id
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
