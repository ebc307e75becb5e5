"""Lots in storage: every movement of a LOT asset moves its lots, writes them with the entries and
settles what is due first; `balances_as_of` never counts expired value."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from engine.model.lots import LotFilter
from engine.model.state import Balance
from engine.store.db import utcnow, write_transaction
from engine.store.errors import LedgerRejected
from engine.store.ledger import movements
from engine.store.ledger.journal import Ledger
from engine.store.ledger.lots import balances_as_of, open_lots
from engine.store.ledger.movements import Entity
from engine.store.ledger.verify import verify
from engine.store.models import Asset, JournalEntry, LotRecord, LotTake, ProgramAsset

DAY = timedelta(days=1)
NOW = utcnow().replace(microsecond=0)


@pytest.fixture(params=["FIFO", "EXPIRING_FIRST"])
def miles(request, world):
    asset = Asset.create(
        organisation=world.org,
        symbol="MILES",
        name="Miles",
        scale=0,
        inventory_mode="LOT",
        spending_order=request.param,
    )
    ProgramAsset.create(program=world.program, asset=asset)
    return asset


def post(world, miles, kind, amount, *, as_of=NOW, **fields):
    with write_transaction():
        ledger = Ledger(world.org.id)
        entity = Entity("PARTICIPANT", world.alice.id)
        entry = getattr(movements, kind)(ledger, miles, world.program.id, entity, amount, as_of=as_of, **fields)
        ledger.finish()
        return entry, ledger


def remaining(world, miles):
    lots = open_lots("PARTICIPANT", world.alice.id, [miles.id])[miles.id]
    return sorted((lot.remaining, lot.status.value) for lot in lots)


def by_status(world, miles):
    sums: dict[str, Decimal] = {}
    for amount, status in remaining(world, miles):
        sums[status] = sums.get(status, Decimal(0)) + amount
    return sums


def test_each_credit_is_a_lot_linked_to_its_entry(world, miles):
    entry, _ = post(world, miles, "credit", Decimal(40), expires_at=NOW + 300 * DAY, reference_id="o-1")
    (row,) = LotRecord.select()
    assert (row.amount, row.remaining, row.status, row.credit_entry_id) == (
        Decimal(40),
        Decimal(40),
        "AVAILABLE",
        entry.id,
    )
    assert row.expires_at is not None and row.program_id == world.program.id
    assert verify().ok


def test_spending_follows_the_assets_order(world, miles):
    post(world, miles, "credit", Decimal(10), as_of=NOW - 20 * DAY, expires_at=NOW + 300 * DAY)
    post(world, miles, "credit", Decimal(10), as_of=NOW - 10 * DAY, expires_at=NOW + 5 * DAY)
    entry, _ = post(world, miles, "debit", Decimal(4))
    (taken,) = LotTake.select().where(LotTake.entry_id == entry.id)
    first = LotRecord.get_by_id(taken.lot_id)
    soonest = first.expires_at < NOW + 100 * DAY
    assert soonest == (miles.spending_order == "EXPIRING_FIRST")
    assert remaining(world, miles) == [(Decimal(6), "AVAILABLE"), (Decimal(10), "AVAILABLE")]
    assert verify().ok


def test_a_movement_settles_due_lots_first_and_never_spends_expired_value(world, miles):
    post(world, miles, "credit", Decimal(10), as_of=NOW - 40 * DAY, expires_at=NOW - DAY)
    post(world, miles, "credit", Decimal(3), as_of=NOW - 40 * DAY, expires_at=NOW + DAY)
    with pytest.raises(LedgerRejected) as refused:
        post(world, miles, "debit", Decimal(5))
    assert refused.value.code == "insufficient_funds"
    _, ledger = post(world, miles, "debit", Decimal(3))
    assert [(s.kind, s.amount) for s in ledger.settlements] == [("EXPIRED", Decimal(10))]
    expiry = JournalEntry.get(JournalEntry.action_type == "EXPIRY")
    assert expiry.description == "lot expired"
    assert LotRecord.get(LotRecord.amount == 10).status == "EXPIRED"
    assert verify().ok


def test_balances_as_of_leave_out_value_due_to_expire_before_any_sweep(world, miles):
    post(world, miles, "credit", Decimal(7), as_of=NOW - 40 * DAY, expires_at=NOW + DAY)
    post(world, miles, "credit", Decimal(2), as_of=NOW - 40 * DAY, matures_at=NOW + DAY)
    stored = {miles.id: Balance(available=Decimal(7), deferred=Decimal(2))}  # as the accounts hold them
    later = balances_as_of("PARTICIPANT", world.alice.id, stored, NOW + 2 * DAY)[miles.id]
    assert (later.available, later.deferred) == (Decimal(2), Decimal(0))
    today = balances_as_of("PARTICIPANT", world.alice.id, stored, NOW)[miles.id]
    assert (today.available, today.deferred) == (Decimal(7), Decimal(2))


def test_an_overdraft_is_repaid_by_the_next_credit(world, miles):
    post(world, miles, "credit", Decimal(3))
    post(world, miles, "debit", Decimal(5), allow_negative=True)
    post(world, miles, "credit", Decimal(10))
    assert remaining(world, miles) == [(Decimal(8), "AVAILABLE")]
    assert verify().ok


def test_hold_release_and_void_hold_move_lots_by_reference(world, miles):
    post(world, miles, "credit", Decimal(10), as_of=NOW - 5 * DAY)
    post(world, miles, "credit", Decimal(6), bucket="HELD", reference_id="auth")  # provisional
    post(world, miles, "hold", Decimal(4), reference_id="order")
    post(world, miles, "release", None, only=LotFilter(reference_id="order"), reference_id="order")
    assert remaining(world, miles) == [(Decimal(4), "AVAILABLE"), (Decimal(6), "AVAILABLE"), (Decimal(6), "HELD")]
    post(world, miles, "hold", Decimal(2), reference_id="auth")  # held, not provisional: never voided
    entry, _ = post(world, miles, "void_hold", None, reference_id="auth")
    assert movements_amount(entry) == Decimal(6)
    assert by_status(world, miles) == {"AVAILABLE": Decimal(8), "HELD": Decimal(2)}
    with pytest.raises(LedgerRejected) as nothing:
        post(world, miles, "void_hold", None, reference_id="auth")
    assert nothing.value.code == "hold_not_found"
    assert verify().ok


def movements_amount(entry) -> Decimal:
    return sum((posting.amount for posting in entry.postings if posting.amount > 0), Decimal(0))
