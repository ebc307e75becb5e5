"""Lots of a LOT asset just ahead of a window: lots credited since are left out, value the
window's events took is given back, and a replay of the window reproduces the record."""

from __future__ import annotations

from decimal import Decimal

from engine.model.bundle import Credit, Debit, Rule
from engine.replay.backtest import run_backtest
from engine.store.catalog import create_rule
from engine.store.db import utcnow
from engine.store.history.events import resolve_window
from engine.store.history.source import open_history
from engine.store.history.starts import Starts
from engine.store.models import Asset, ProgramAsset
from tests.engine.consumer import drain


def _lot_history(world, queue):
    miles = Asset.create(organisation=world.org, symbol="MILES", name="Miles", scale=0, inventory_mode="LOT")
    ProgramAsset.create(program=world.program, asset=miles)
    earn = Rule(
        name="earn",
        condition='event.kind == "fly"',
        actions=[Credit(asset_id="MILES", amount="event.miles", expires_at='"8760h"')],
    )
    spend = Rule(
        name="spend", condition='event.kind == "redeem"', actions=[Debit(asset_id="MILES", amount="event.miles")]
    )
    for rule in (earn, spend):
        create_rule(world.org.id, world.program.id, rule)
    world.event("alice", key="f1", kind="fly", miles=100.0)
    drain(queue)
    split = utcnow()
    for key, kind, amount in (("r1", "redeem", 30.0), ("f2", "fly", 50.0), ("r2", "redeem", 90.0)):
        world.event("alice", key=key, kind=kind, miles=amount)
        drain(queue)
    return miles, split


def test_lots_ahead_of_the_window_get_back_what_the_window_took(world, queue):
    miles, split = _lot_history(world, queue)
    window = resolve_window(world.program.id, start=split)
    starts = Starts(window, world.org.id, {miles.id: "MILES"}, {miles.id}, {world.alice.id})
    alice = starts.participant(world.alice.id)
    assert alice.balances["MILES"].available == 100
    (lot,) = alice.lots["MILES"]  # the second flight's lot is the window's own
    assert (lot.remaining, lot.amount, str(lot.status)) == (Decimal(100), Decimal(100), "AVAILABLE")


def test_a_replay_of_a_lot_history_reproduces_the_record(world, queue):
    _, split = _lot_history(world, queue)
    source = open_history(world.program.id, start=split)
    difference = run_backtest(
        source.baseline,
        source.baseline,
        source.history(),
        seed=source.starts.participant,
        program_state=source.starts.program(),
        tracked=source.tracked,
    )
    assert difference.events == 3 and difference.reproduced and difference.empty, difference.mismatch_samples
