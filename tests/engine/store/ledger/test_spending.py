"""Spending on a LOT asset: a redemption takes lots in spending order, a reversal restores them last
taken first (never more than was taken, over cumulative partial reversals), value restored into a
lot past its expiry expires again at once, and a transfer's recipient gets a new lot earned now."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from engine.store.db import utcnow, write_transaction
from engine.store.ledger import movements
from engine.store.ledger.journal import Ledger
from engine.store.ledger.lots import open_lots
from engine.store.ledger.movements import Entity
from engine.store.ledger.verify import verify
from engine.store.models import Account, Asset, JournalEntry, LotRecord, LotTake, ProgramAsset
from engine.store.redemptions import redeem, reverse
from engine.store.transfers import Party, transfer

DAY = timedelta(days=1)
NOW = utcnow().replace(microsecond=0)


@pytest.fixture
def miles(world):
    asset = Asset.create(
        organisation=world.org, symbol="MILES", name="Miles", scale=0, inventory_mode="LOT", spending_order="FIFO"
    )
    ProgramAsset.create(program=world.program, asset=asset)
    return asset


def earn(world, miles, amount, *, earned, expires):
    with write_transaction():
        ledger = Ledger(world.org.id)
        entity = Entity("PARTICIPANT", world.alice.id)
        entry = movements.credit(ledger, miles, world.program.id, entity, Decimal(amount), as_of=earned,
                                 expires_at=expires)  # fmt: skip
        ledger.finish()
    return LotRecord.get(LotRecord.credit_entry_id == entry.id)


def spend(world, amount, *, now=NOW):
    result, _ = redeem(world.org.id, world.alice.id, program_id=world.program.id, asset_id="MILES",
                       amount=amount, description="flight", now=now)  # fmt: skip
    return result


def takes(entry_id):
    rows = LotTake.select().where(LotTake.entry_id == entry_id).order_by(LotTake.position)
    return [(row.lot_id, Decimal(row.amount)) for row in rows]


def balance(world, person=None) -> Decimal:
    person = person or world.alice
    row = Account.get_or_none(
        (Account.entity_type == "PARTICIPANT") & (Account.entity_id == person.id) & (Account.bucket == "AVAILABLE")
    )
    return Decimal(0) if row is None else Decimal(row.balance)


def test_a_reversal_restores_the_redemptions_lots_last_taken_first(world, miles):
    old = earn(world, miles, 10, earned=NOW - 20 * DAY, expires=NOW + 300 * DAY)
    new = earn(world, miles, 10, earned=NOW - 10 * DAY, expires=NOW + 300 * DAY)
    redemption = spend(world, 15)
    assert takes(redemption.journal_entry_id) == [(old.id, Decimal(-10)), (new.id, Decimal(-5))]
    first, _ = reverse(world.org.id, redemption.id, reason="part", amount=7)
    assert takes(first.journal_entry_id) == [(new.id, Decimal(5)), (old.id, Decimal(2))]
    second, _ = reverse(world.org.id, redemption.id, reason="rest")
    assert takes(second.journal_entry_id) == [(old.id, Decimal(8))]
    lots = {lot.id: lot.remaining for lot in open_lots("PARTICIPANT", world.alice.id, [miles.id])[miles.id]}
    assert lots == {old.id: Decimal(10), new.id: Decimal(10)}
    assert balance(world) == Decimal(20) and verify().ok


def test_value_restored_into_a_lot_past_its_expiry_expires_again_at_once(world, miles):
    soon = earn(world, miles, 10, earned=NOW - 20 * DAY, expires=NOW + DAY)
    redemption = spend(world, 6)
    later = NOW + 2 * DAY  # `soon` has expired (its 4 left went to breakage) when the refund comes
    reversal, _ = reverse(world.org.id, redemption.id, reason="refund", now=later)
    ((part_id, amount),) = takes(reversal.journal_entry_id)
    part = LotRecord.get_by_id(part_id)
    assert (part.source_lot_id, amount, part.status, Decimal(part.remaining)) == (soon.id, 6, "EXPIRED", 0)
    expiries = JournalEntry.select().where(JournalEntry.action_type == "EXPIRY")
    assert sorted(Decimal(p.amount) for e in expiries for p in e.postings if p.amount > 0) == [4, 6]
    assert balance(world) == 0 and verify().ok
    # the original lot expired once, and the refunded part once: nothing expires twice
    assert LotRecord.get_by_id(soon.id).status == "EXPIRED"


def test_a_transfer_gives_each_recipient_a_new_lot_without_the_payers_expiry(world, miles):
    earn(world, miles, 50, earned=NOW - 20 * DAY, expires=NOW + 5 * DAY)
    carol = type(world.alice).create(organisation=world.org, external_id="carol")
    result, _ = transfer(
        world.org.id, program_id=world.program.id, asset_id="MILES", description="gift",
        source=Party("PARTICIPANT", id=world.alice.id),
        recipients=[(Party("PARTICIPANT", external_id="bob"), 20), (Party("PARTICIPANT", id=carol.id), 5)],
        now=NOW,
    )  # fmt: skip
    assert (result.total_amount, result.recipient_count) == (Decimal(25), 2)
    (bobs,) = open_lots("PARTICIPANT", world.bob.id, [miles.id])[miles.id]
    assert (bobs.remaining, bobs.expires_at, bobs.created_at) == (Decimal(20), None, NOW)
    assert (balance(world), balance(world, world.bob), balance(world, carol)) == (25, 20, 5)
    assert verify().ok
