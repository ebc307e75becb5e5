"""`accrual sweep`: applies what is due now or at --until, once, and refuses bad input clearly."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from click.testing import CliRunner

from engine.cli import main
from engine.queue import reset_queue
from engine.store.db import connect, utcnow, write_transaction
from engine.store.ledger import movements
from engine.store.ledger.journal import Ledger
from engine.store.ledger.movements import Entity
from engine.store.models import Asset, LotRecord, ProgramAsset
from tests.engine.world import World


def sweep(*args: str):
    result = CliRunner().invoke(main, ["sweep", *args])
    reset_queue()
    return result


def test_sweep_applies_what_is_due_at_until_once(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    expiry = utcnow() + timedelta(days=30)
    database = connect(url)
    with database.connection_context(), write_transaction():
        world = World()
        miles = Asset.create(organisation=world.org, symbol="MILES", name="Miles", scale=0, inventory_mode="LOT")
        ProgramAsset.create(program=world.program, asset=miles)
        ledger = Ledger(world.org.id)
        for person in (world.alice, world.bob):
            entity = Entity("PARTICIPANT", person.id)
            movements.credit(ledger, miles, world.program.id, entity, Decimal(5), expires_at=expiry)
        ledger.finish()
    now = sweep("--queue-url", "memory://")
    assert now.exit_code == 0, now.output
    assert "lots: 0" in now.output
    later = (expiry + timedelta(seconds=1)).isoformat()
    swept = sweep("--until", later, "--queue-url", "memory://")
    assert swept.exit_code == 0, swept.output
    assert "lots: 2" in swept.output and "deferred_credits: 0" in swept.output
    assert "lots: 0" in sweep("--until", later, "--queue-url", "memory://").output
    with database.connection_context():
        assert {row.status for row in LotRecord.select()} == {"EXPIRED"}


def test_sweep_refuses_a_time_without_an_offset_and_a_database_not_upgraded(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    naive = sweep("--until", "2027-01-01T00:00:00", "--database-url", url)
    assert naive.exit_code == 2 and "with its offset" in naive.output
    garbage = sweep("--until", "soon", "--database-url", url)
    assert garbage.exit_code == 2 and "not an RFC 3339 time" in garbage.output
    empty = sweep("--database-url", url, "--queue-url", "memory://")
    assert empty.exit_code == 1 and "accrual db upgrade" in empty.output
