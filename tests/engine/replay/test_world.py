"""A replay's world: events evaluated against it and kept, recorded changes applied to it, each
world with its own copy of every start."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from engine.model.history import LedgerChange, LotSpec, StateRecord
from engine.model.state import ProgramState
from engine.replay.world import ReplayWorld
from tests.engine.replay.programs import T0, event, program, seed


def test_events_change_the_world_in_order_and_two_worlds_share_nothing():
    one = ReplayWorld(program(), seed=seed, program_state=ProgramState())
    two = ReplayWorld(program(multiplier="2.0"), seed=seed, program_state=ProgramState())
    for number in (1, 2):
        assert one.evaluate(event(number)).status == "COMPLETED"
        two.evaluate(event(number))
    alice = one.members["p-alice"]
    assert alice.balances["PTS"].available == Decimal("25.00") and alice.counters["visits"].value == 2
    assert alice.tiers["status"].level == "gold"  # the second visit reached the threshold
    assert two.members["p-alice"].balances["PTS"].available == Decimal("45.00")
    assert one.starts["p-alice"].balances["PTS"].available == Decimal("5.00")  # the start is kept apart


def test_a_failed_event_changes_nothing():
    world = ReplayWorld(program(), seed=seed, program_state=ProgramState())
    failed = world.evaluate(event(1, amount=-3.0))  # a negative credit refuses the event
    assert failed.status == "FAILED"
    assert world.members["p-alice"].balances["PTS"].available == Decimal("5.00")
    assert "visits" not in world.members["p-alice"].counters


def test_recorded_changes_apply_to_balances_holds_lots_and_state():
    world = ReplayWorld(program(), seed=seed, program_state=ProgramState())
    at = T0 + timedelta(minutes=1)
    world.apply(_ledger(at, "CREDIT", {"AVAILABLE": Decimal("7")}))
    world.apply(_ledger(at, "HOLD", {"AVAILABLE": Decimal("-2"), "HELD": Decimal("2")}, reference_id="order-1"))
    lot = LotSpec(id="lot-1", created_at=at, expires_at=at + timedelta(days=30))
    world.apply(_ledger(at, "CREDIT", {"AVAILABLE": Decimal("40")}, asset="MILES", lot=lot))
    world.apply(_ledger(at, "DEBIT", {"AVAILABLE": Decimal("-15")}, asset="MILES"))
    alice = world.members["p-alice"]
    assert alice.balances["PTS"].available == Decimal("10.00") and alice.holds["PTS"] == {"order-1": Decimal("2")}
    assert [(lot.remaining, lot.expires_at) for lot in alice.lots["MILES"]] == [
        (Decimal("25"), at + timedelta(days=30))
    ]
    world.apply(_state("tag", "vip", "add", None, None))
    world.apply(_state("counter", "visits", "set", None, "4"))
    world.apply(_state("counter", "visits", "add", "4", "5", from_event=True))  # another program's +1
    world.apply(_state("tier", "status", "set", None, "gold"))
    world.apply(_state("attribute", "city", "set", None, "Lyon"))
    assert alice.tags == ["vip"] and alice.counters["visits"].value == 5
    assert alice.tiers["status"].level == "gold" and alice.tiers["status"].rank == 1
    assert alice.attributes == {"city": "Lyon"}
    world.apply(
        StateRecord(at=at, owner_type="PROGRAM", owner_id="prog", state_type="tag", key="sale", operation="add")
    )
    assert world.program_state.tags == ["sale"]


def _ledger(at, action, deltas, *, asset="PTS", **fields) -> LedgerChange:
    return LedgerChange(
        at=at,
        entry_id=f"entry-{action}-{asset}",
        action_type=action,
        owner_type="PARTICIPANT",
        owner_id="p-alice",
        asset=asset,
        deltas=deltas,
        **fields,
    )


def _state(state_type, key, operation, old, new, from_event=False) -> StateRecord:
    return StateRecord(
        at=T0,
        owner_type="PARTICIPANT",
        owner_id="p-alice",
        state_type=state_type,
        key=key,
        operation=operation,
        old_value=old,
        new_value=new,
        from_event=from_event,
        event_timestamp=T0,
    )


def test_a_state_copy_equals_a_deep_copy_and_shares_nothing_a_replay_changes():
    from copy import deepcopy

    from engine.model.lots import Lot, LotStatus
    from engine.model.state import Balance, CounterState, EntityState
    from engine.replay.world import state_copy

    lot = Lot(id="l1", amount=Decimal(5), remaining=Decimal(5), status=LotStatus.AVAILABLE, created_at=T0)
    state = EntityState(
        id="p-1",
        tags=["vip"],
        counters={"visits": CounterState(value=Decimal(2))},
        attributes={"country": "DE"},
        balances={"PTS": Balance(available=Decimal(5), held=Decimal(1))},
        holds={"PTS": {"r1": Decimal(1)}},
        lots={"PTS": [lot]},
    )
    before, copied = deepcopy(state), state_copy(state)
    assert copied == before
    copied.tags.append("new")
    copied.counters["visits"] = CounterState(value=Decimal(3))
    copied.attributes["country"] = "FR"
    copied.balances["PTS"].available += 1
    copied.holds["PTS"]["r1"] = Decimal(0)
    copied.lots["PTS"][0].remaining = Decimal(0)
    copied.lots["PTS"].append(lot)
    assert state == before
