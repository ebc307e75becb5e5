"""`accrual verify` on LOT assets: lots agree with balances, and expired value reached breakage once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from engine.store.db import utcnow, write_transaction
from engine.store.ledger import movements
from engine.store.ledger.journal import Ledger
from engine.store.ledger.movements import Entity
from engine.store.ledger.verify import verify
from engine.store.models import Asset, LotRecord, LotTake, ProgramAsset
from engine.store.sweeps import settle_due_lots

NOW = utcnow()


@pytest.fixture
def lots(world):
    """Alice holds a live lot of 7 MILES and an expired lot of 5 that the sweep expired."""
    miles = Asset.create(organisation=world.org, symbol="MILES", name="Miles", scale=0, inventory_mode="LOT")
    ProgramAsset.create(program=world.program, asset=miles)
    with write_transaction():
        ledger = Ledger(world.org.id)
        alice = Entity("PARTICIPANT", world.alice.id)
        past = NOW - timedelta(days=30)
        movements.credit(ledger, miles, world.program.id, alice, Decimal(7), as_of=past)
        movements.credit(ledger, miles, world.program.id, alice, Decimal(5), as_of=past, expires_at=NOW)
        ledger.finish()
    assert len(settle_due_lots(NOW).settled) == 1
    return {row.status: row for row in LotRecord.select()}


def codes(report):
    return sorted({m.code for m in report.mismatches})


def test_lots_that_agree_with_the_ledger_verify(lots):
    report = verify()
    assert report.ok, report.mismatches


def test_a_drifted_remaining_is_a_mismatch_with_the_balance(lots):
    LotRecord.update(remaining=Decimal(6)).where(LotRecord.id == lots["AVAILABLE"].id).execute()
    assert codes(verify()) == ["lot_balance_mismatch"]


def test_a_remaining_outside_the_amount_and_an_open_empty_lot_are_named(lots):
    LotRecord.update(remaining=Decimal(-1)).where(LotRecord.id == lots["AVAILABLE"].id).execute()
    assert codes(verify()) == ["lot_balance_mismatch", "lot_remaining", "lot_status"]


def test_an_expiry_taken_twice_or_not_at_all_is_named(lots):
    expired = lots["EXPIRED"]
    LotTake.create(lot=expired, entry_id=expired.expired_entry_id, position=9, amount=Decimal(-5))
    assert codes(verify()) == ["lot_expiry"]
    LotTake.delete().where(LotTake.lot == expired.id).execute()
    assert codes(verify()) == ["lot_expiry"]


def test_an_open_lot_taken_by_an_expiry_is_named(lots):
    expired = lots["EXPIRED"]
    LotTake.create(lot=lots["AVAILABLE"], entry_id=expired.expired_entry_id, position=9, amount=Decimal(-1))
    assert "lot_expiry" in codes(verify())
