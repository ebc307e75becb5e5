from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from engine.model.bundle import TierLevel, TierType
from engine.model.state import Balance, CounterState, TierState
from engine.store import operations as ops
from engine.store import owner_state
from engine.store.db import utcnow, write_transaction
from engine.store.owner_reads import read_owner
from engine.store.tier_types import create_tier_type


def _seed_alice(world):
    """alice with every kind of state, some of it out of the program's sight."""
    origin = owner_state.Origin(program_id=world.program.id)
    levels = [TierLevel(key="silver", rank=1), TierLevel(key="gold", rank=2)]
    status = create_tier_type(world.org.id, world.program.id, TierType(key="status", levels=levels))
    club = create_tier_type(world.org.id, world.program.id, TierType(key="club", levels=levels))
    now = utcnow()
    with write_transaction():
        for tag in ("vip", "early", "zeta"):
            owner_state.add_tag(world.org.id, "PARTICIPANT", world.alice.id, tag, origin)
        owner_state.increment_counter(
            world.org.id, "PARTICIPANT", world.alice.id, "visits", Decimal("3.5"), origin, reset_after="720h", at=now
        )
        owner_state.increment_counter(world.org.id, "PARTICIPANT", world.alice.id, "orders", Decimal(2), origin)
        owner_state.set_attribute(world.org.id, "PARTICIPANT", world.alice.id, "country", "DE", origin)
        owner_state.set_attribute(world.org.id, "PARTICIPANT", world.alice.id, "note", "", origin)
        owner_state.set_tier(world.org.id, world.alice.id, status, "gold", 2, origin, reason="API")
        owner_state.set_tier(
            world.org.id, world.alice.id, club, "silver", 1, origin, reason="API", expires_at=now + timedelta(hours=1)
        )
    credit = {"program_id": world.program.id, "type": "CREDIT", "description": "seed"}
    ops.adjust_balance(world.org.id, world.alice.id, asset_id="PTS", amount="10.25", **credit)
    ops.hold(world.org.id, world.alice.id, program_id=world.program.id, asset_id="PTS", amount="4",
             description="auth", reference_id="order-1")  # fmt: skip
    ops.hold(world.org.id, world.alice.id, program_id=world.program.id, asset_id="PTS", amount="1",
             description="auth", reference_id="order-2")  # fmt: skip
    ops.release(world.org.id, world.alice.id, program_id=world.program.id, asset_id="PTS", amount="1",
                description="done", reference_id="order-2")  # fmt: skip
    return now


def _with_statements(db, action):
    """What `action` returns, and the SQL of every statement it ran."""
    sent: list[str] = []
    original = db.execute_sql
    db.execute_sql = lambda sql, params=None, *args, **kwargs: (
        sent.append(sql) or original(sql, params, *args, **kwargs)
    )
    try:
        return action(), sent
    finally:
        del db.execute_sql


def test_a_participant_is_read_whole_in_one_statement(world, db):
    now = _seed_alice(world)
    state, sent = _with_statements(
        db,
        lambda: read_owner(
            "PARTICIPANT", world.alice.id, {world.pts.id: "PTS"}, tiers=(world.program.id, now), holds=True
        ),
    )
    assert len(sent) == 1
    assert state.tags == ["early", "vip", "zeta"]
    assert state.counters["visits"] == CounterState(value=Decimal("3.5"), reset_after="720h", last_reset_at=now)
    assert state.counters["orders"].value == Decimal(2) and state.counters["orders"].reset_after is None
    assert state.attributes == {"country": "DE", "note": ""}
    assert state.tiers == {"status": TierState(level="gold", rank=2), "club": TierState(level="silver", rank=1)}
    assert state.balances == {"PTS": Balance(available=Decimal("6.25"), held=Decimal("4.00"))}
    assert state.holds == {"PTS": {"order-1": Decimal("4.00")}}  # order-2 holds nothing any more


def test_a_level_past_its_expiry_is_not_read_and_other_assets_are_left_out(world):
    now = _seed_alice(world)
    later = read_owner("PARTICIPANT", world.alice.id, {}, tiers=(world.program.id, now + timedelta(hours=2)))
    assert later.tiers == {"status": TierState(level="gold", rank=2)}
    assert later.balances == {} and later.holds == {}


def test_the_program_is_read_without_tiers_or_holds(world):
    ops.fund_program(world.org.id, world.program.id, asset_id="GEM", amount="7")
    origin = owner_state.Origin(program_id=world.program.id)
    with write_transaction():
        owner_state.add_tag(world.org.id, "PROGRAM", world.program.id, "launched", origin)
    state = read_owner("PROGRAM", world.program.id, {world.gem.id: "GEM", world.pts.id: "PTS"})
    assert state.tags == ["launched"] and state.counters == {} and state.attributes == {}
    assert state.balances == {"GEM": Balance(available=Decimal(7))}
    assert state.tiers == {} and state.holds == {}


def test_without_symbols_no_balances_are_read(world, db):
    _seed_alice(world)
    state, sent = _with_statements(db, lambda: read_owner("PARTICIPANT", world.alice.id))
    assert len(sent) == 1 and "FROM account" not in sent[0]
    assert state.tags == ["early", "vip", "zeta"] and set(state.counters) == {"visits", "orders"}
    assert state.balances == {} and state.tiers == {} and state.holds == {}


def test_a_group_s_balances_and_holds_are_those_of_its_accounts_in_one_program(world):
    from engine.store import groups

    household = groups.create_group(world.org.id, "Smiths", [groups.Member(world.alice.id, "ADMIN")])
    move = {"program_id": world.program.id, "asset_id": "PTS", "owner_type": "GROUP"}
    ops.adjust_balance(world.org.id, household.id, type="CREDIT", amount="30", description="seed", **move)
    ops.hold(world.org.id, household.id, amount="12", description="trip", reference_id="trip-1", **move)
    symbols = {world.pts.id: "PTS"}
    state = read_owner("GROUP", household.id, symbols, holds=True, program_scope=world.program.id)
    assert state.balances == {"PTS": Balance(available=Decimal("18.00"), held=Decimal("12.00"))}
    assert state.holds == {"PTS": {"trip-1": Decimal("12.00")}}
    outside = read_owner("GROUP", household.id, symbols, holds=True)  # no accounts outside a program
    assert outside.balances == {} and outside.holds == {}
