"""Held amounts by reference are kept with the postings, read without the history, and verified."""

from __future__ import annotations

from decimal import Decimal

from engine.store import operations as ops
from engine.store.db import database_proxy, write_transaction
from engine.store.ledger.journal import Ledger
from engine.store.ledger.movements import Entity, hold, release
from engine.store.ledger.verify import verify
from engine.store.migrations import upgrade
from engine.store.models import PARTICIPANT, Asset, HeldReference
from engine.store.owner_reads import read_owner


def _op(world, operation, amount, reference):
    getattr(ops, operation)(
        world.org.id,
        world.alice.id,
        program_id=world.program.id,
        asset_id="PTS",
        amount=amount,
        description=operation,
        reference_id=reference,
    )


def _rows():
    return sorted((row.reference_id, row.amount) for row in HeldReference.select())


def _funded(world, amount="100"):
    ops.adjust_balance(
        world.org.id,
        world.alice.id,
        program_id=world.program.id,
        asset_id="PTS",
        type="CREDIT",
        amount=amount,
        description="seed",
    )


def test_a_hold_is_kept_by_reference_until_it_is_released_in_full(world):
    _funded(world)
    _op(world, "hold", "40", "order-7")
    _op(world, "hold", "5", "order-8")
    _op(world, "hold", "3", None)  # no reference: not kept
    _op(world, "release", "15", "order-7")
    assert _rows() == [("order-7", Decimal("25.00")), ("order-8", Decimal("5.00"))]
    assert read_owner("PARTICIPANT", world.alice.id, {world.pts.id: "PTS"}, holds=True).holds == {
        "PTS": {"order-7": Decimal("25.00"), "order-8": Decimal("5.00")}
    }
    _op(world, "release", "25", "order-7")
    ops.forfeit(
        world.org.id,
        world.alice.id,
        program_id=world.program.id,
        asset_id="PTS",
        amount="5",
        bucket="HELD",
        description="forfeit",
        reference_id="order-8",
    )
    assert _rows() == []  # rows at zero are removed: only open holds are ever read
    assert verify().ok


def test_only_positive_amounts_are_offered_to_rules(world):
    _funded(world)
    _op(world, "hold", "10", None)
    _op(world, "release", "4", "never-held")  # a direct release may name any reference
    assert _rows() == [("never-held", Decimal("-4.00"))]
    assert read_owner("PARTICIPANT", world.alice.id, {world.pts.id: "PTS"}, holds=True).holds == {}
    assert verify().ok


def test_a_hold_released_in_the_same_transaction_leaves_no_row(world):
    _funded(world)
    asset = Asset.get_by_id(world.pts.id)
    with write_transaction():
        ledger = Ledger(world.org.id)
        entity = Entity(PARTICIPANT, world.alice.id)
        hold(ledger, asset, world.program.id, entity, Decimal(6), reference_id="r1", description="h")
        release(ledger, asset, world.program.id, entity, Decimal(6), reference_id="r1", description="r")
        ledger.finish()
    assert _rows() == []
    assert verify().ok


def test_a_drifted_row_is_named_by_verify(world):
    _funded(world)
    _op(world, "hold", "40", "order-7")
    HeldReference.update(amount=Decimal("39.00")).execute()
    report = verify()
    assert [m.code for m in report.mismatches] == ["held_reference_mismatch"]
    assert "order-7" in report.mismatches[0].message


def test_the_schema_step_fills_the_table_from_the_postings_so_far(world):
    _funded(world)
    _op(world, "hold", "40", "order-7")
    _op(world, "release", "10", "order-7")
    _op(world, "hold", "2", "order-9")
    _op(world, "release", "2", "order-9")
    db = database_proxy.obj
    db.drop_tables([HeldReference])
    db.execute_sql("DELETE FROM schema_version WHERE version = 7")
    assert upgrade(db) == [7]
    assert _rows() == [("order-7", Decimal("30.00"))]
    assert verify().ok
