"""The rewards catalog in storage: created against a linked asset, names unique in the program,
type and asset immutable, OUT_OF_STOCK following the stock, archive and back."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.model.rewards import Reward
from engine.store.errors import Conflict, LedgerRejected, NotFound
from engine.store.models import Asset, Program
from engine.store.rewards import create_reward, reward_row, update_reward


def coffee(**fields) -> Reward:
    base = {"name": "Free coffee", "redemption_type": "UNIT_BASED", "asset_id": "PTS", "unit_cost": "2.50"}
    return Reward(**{**base, **fields})


def test_create_stores_the_unit_cost_at_the_asset_scale(world):
    row = create_reward(world.org.id, world.program.id, coffee(max_total=3))
    assert (row.unit_cost, row.status, row.redeemed_count, row.asset_id) == (Decimal("2.50"), "ACTIVE", 0, world.pts.id)
    assert reward_row(world.org.id, world.program.id, row.id).name == "Free coffee"


def test_create_refuses_what_does_not_fit(world):
    with pytest.raises(LedgerRejected) as raised:
        create_reward(world.org.id, world.program.id, coffee(unit_cost="2.505"))
    assert raised.value.code == "invalid_scale"
    with pytest.raises(LedgerRejected) as raised:
        create_reward(world.org.id, world.program.id, coffee(redemption_type="AMOUNT_BASED", max_total=3))
    assert (raised.value.code, raised.value.details["field"]) == ("bad_request", "max_total")
    with pytest.raises(LedgerRejected) as raised:
        create_reward(world.org.id, world.program.id, coffee(), status="OUT_OF_STOCK")
    assert raised.value.details["field"] == "status"
    unlinked = Asset.create(organisation=world.org, symbol="XP", name="Experience", scale=0)
    with pytest.raises(LedgerRejected) as raised:
        create_reward(world.org.id, world.program.id, coffee(asset_id=unlinked.id))
    assert raised.value.code == "asset_not_linked"


def test_names_are_unique_in_a_program_archived_ones_included(world):
    row = create_reward(world.org.id, world.program.id, coffee())
    update_reward(world.org.id, world.program.id, row.id, {"status": "ARCHIVED"})
    with pytest.raises(Conflict) as raised:
        create_reward(world.org.id, world.program.id, coffee())
    assert raised.value.code == "already_exists"
    other = Program.create(organisation=world.org, name="Other")
    from engine.store.models import ProgramAsset

    ProgramAsset.create(program=other, asset=world.pts)
    assert create_reward(world.org.id, other.id, coffee()).name == "Free coffee"
    second = create_reward(world.org.id, world.program.id, coffee(name="Tea"))
    with pytest.raises(Conflict):
        update_reward(world.org.id, world.program.id, second.id, {"name": "Free coffee"})


def test_type_and_asset_never_change(world):
    row = create_reward(world.org.id, world.program.id, coffee())
    for field, value in (("redemption_type", "AMOUNT_BASED"), ("asset_id", world.gem.id)):
        with pytest.raises(LedgerRejected) as raised:
            update_reward(world.org.id, world.program.id, row.id, {field: value})
        assert raised.value.details == {"field": field, "reason": "immutable"}
    same = update_reward(world.org.id, world.program.id, row.id, {"asset_id": "PTS", "redemption_type": "UNIT_BASED"})
    assert same.asset_id == world.pts.id


def test_status_follows_max_total_and_archive_is_not_one_way(world):
    row = create_reward(world.org.id, world.program.id, coffee(max_total=0))
    assert row.status == "OUT_OF_STOCK"
    row = update_reward(world.org.id, world.program.id, row.id, {"max_total": 5})
    assert row.status == "ACTIVE"
    row = update_reward(world.org.id, world.program.id, row.id, {"status": "ARCHIVED"})
    assert (row.status, row.deleted_at is not None) == ("ARCHIVED", True)
    row = update_reward(world.org.id, world.program.id, row.id, {"status": "DRAFT", "unit_cost": "3"})
    assert (row.status, row.deleted_at, row.unit_cost) == ("DRAFT", None, Decimal("3.00"))


def test_another_programs_reward_is_not_found(world):
    row = create_reward(world.org.id, world.program.id, coffee())
    other = Program.create(organisation=world.org, name="Other")
    with pytest.raises(NotFound):
        reward_row(world.org.id, other.id, row.id)
    with pytest.raises(NotFound):
        update_reward(world.org.id, other.id, row.id, {"name": "x"})
