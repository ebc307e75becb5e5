"""A recorded history for the history readers: rules that count visits and credit the amount,
alice's first event (ahead of the window), then a goodwill credit and a tag given through the
API, and three more events (alice, bob, alice)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from engine.model.bundle import Counter, Credit, Rule
from engine.store import operations
from engine.store.catalog import create_rule
from engine.store.db import utcnow, write_transaction
from engine.store.owner_state import Origin, add_tag
from tests.engine.consumer import drain
from tests.engine.world import World


@dataclass
class Recorded:
    world: World
    split: datetime  # after alice's first event, before everything else
    events: list[str]  # ids, in the order they were processed


@pytest.fixture
def recorded(world: World, queue) -> Recorded:
    create_rule(
        world.org.id,
        world.program.id,
        Rule(name="visit", order=10, condition="true", actions=[Counter(key="visits", value="1")]),
    )
    create_rule(
        world.org.id,
        world.program.id,
        Rule(name="earn", order=20, condition="true", actions=[Credit(asset_id="PTS", amount="event.amount")]),
    )
    first = world.event("alice", key="a1", amount=10.0)
    drain(queue)
    split = utcnow()
    operations.adjust_balance(
        world.org.id,
        world.alice.id,
        program_id=world.program.id,
        asset_id="PTS",
        type="CREDIT",
        amount="7",
        description="goodwill",
    )
    with write_transaction():
        add_tag(world.org.id, "PARTICIPANT", world.alice.id, "vip", Origin())
    ids = [first.id]
    for name, key, amount in (("alice", "a2", 5.0), ("bob", "b1", 20.0), ("alice", "a3", 1.0)):
        ids.append(world.event(name, key=key, amount=amount).id)
        drain(queue)
    return Recorded(world=world, split=split, events=ids)
