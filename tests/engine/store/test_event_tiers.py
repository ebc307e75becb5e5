"""A group's levels moved by an event (A257, A258): SET_TIER on the named group or another one,
auto-qualification on the named group's counters, the ACTIVITY_REFRESH wait an event naming
the group starts again, an archived group refused, and the webhook naming `group_id`."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from engine.model.bundle import Rule, TierType
from engine.store import groups, owner_state
from engine.store.catalog import create_rule
from engine.store.db import utcnow, write_transaction
from engine.store.models import EventRecord, GroupTier, StateHistory
from engine.store.tier_types import create_tier_type
from engine.webhooks.messages import tier_changed_data
from engine.worker.pipeline import default_pipeline
from tests.engine.world import store_event


def household_tier(world, lifecycle: dict | None = None):
    spec = msgspec.convert(
        {
            "key": "household",
            "levels": [
                {"key": "bronze", "rank": 0},
                {
                    "key": "silver",
                    "rank": 1,
                    "qualification": {"criteria": [{"counter": "spend", "operator": ">=", "threshold": 1000}]},
                },
                {"key": "gold", "rank": 2},
            ],
            "lifecycle": lifecycle or {},
        },
        TierType,
    )
    return create_tier_type(world.org.id, world.program.id, spec)


def add_rule(world, name: str, condition: str, *actions: dict) -> None:
    create_rule(world.org.id, world.program.id, msgspec.convert(
        {"name": name, "condition": condition, "actions": list(actions)}, Rule
    ))  # fmt: skip


def household(world, name: str = "Smiths"):
    return groups.create_group(world.org.id, name, [groups.Member(world.alice.id, groups.ADMIN)])


def process(world, data: dict, *, received=None):
    event = store_event(world, data=data, **({"created_at": received} if received else {}))
    with write_transaction():
        return default_pipeline(EventRecord.get_by_id(event.id))


def level_of(group) -> GroupTier | None:
    return GroupTier.get_or_none(GroupTier.group == group.id)


def test_set_tier_on_the_named_group_sets_its_level_seen_by_later_rules_with_history_and_webhook(world):
    household_tier(world)
    group = household(world)
    named = {"type": "GROUP", "id": "event.group_id"}
    add_rule(world, "promote", 'event.type == "promo"', {"type": "SET_TIER", "tier": "household", "level": "gold",
                                                         "target": named})  # fmt: skip
    add_rule(world, "tag gold", 'group.tiers.household.level == "gold"', {"type": "TAG", "tag": "golden",
                                                                          "target": named})  # fmt: skip
    applied = process(world, {"type": "promo", "group_id": group.id})
    assert applied.status == "COMPLETED", applied.error_message
    row = level_of(group)
    assert (row.level, row.rank, row.program_id) == ("gold", 2, world.program.id)
    (move,) = applied.tier_moves
    data = tier_changed_data(move)
    assert data["group_id"] == group.id and "participant_id" not in data
    assert (data["new_level"], data["reason"], data["direction"], data["event_id"]) == (
        "gold",
        "RULE",
        "UP",
        applied.record.id,
    )
    history = StateHistory.get((StateHistory.owner_type == "GROUP") & (StateHistory.state_type == "tier"))
    assert (history.owner_id, history.new_value, history.reason, history.program_id) == (
        group.id,
        "gold",
        "RULE",
        world.program.id,
    )
    assert "golden" in owner_state.load_entity_state("GROUP", group.id)[0]


def test_set_tier_on_another_group_is_applied_by_storage(world):
    household_tier(world)
    named, other = household(world), household(world, "Joneses")
    add_rule(world, "gift", "true", {"type": "SET_TIER", "tier": "household", "level": "silver",
                                     "target": {"type": "GROUP", "id": f"'{other.id}'"}})  # fmt: skip
    applied = process(world, {"type": "visit", "group_id": named.id})
    assert applied.status == "COMPLETED", applied.error_message
    assert level_of(other).level == "silver" and level_of(named) is None
    assert [(m.owner_type, m.participant_id) for m in applied.tier_moves] == [("GROUP", other.id)]


def test_the_named_group_qualifies_on_its_own_counters(world):
    household_tier(world)
    group = household(world)
    add_rule(world, "spend", "group != null", {"type": "COUNTER", "key": "spend", "value": "event.amount",
                                               "target": {"type": "GROUP", "id": "group.id"}})  # fmt: skip
    assert process(world, {"type": "purchase", "amount": 600, "group_id": group.id}).status == "COMPLETED"
    assert level_of(group) is None
    applied = process(world, {"type": "purchase", "amount": 600, "group_id": group.id})
    assert level_of(group).level == "silver"
    assert [(m.new_level, m.reason) for m in applied.tier_moves] == [("silver", "QUALIFICATION")]
    assert owner_state.live_tiers(world.alice.id, world.program.id) == {}  # the member's counters are not the group's


def test_set_tier_on_an_archived_group_fails_the_event(world):
    household_tier(world)
    group = household(world)
    groups.archive_group(world.org.id, group.id)
    add_rule(world, "promote", "true", {"type": "SET_TIER", "tier": "household", "level": "gold",
                                        "target": {"type": "GROUP", "id": f"'{group.id}'"}})  # fmt: skip
    applied = process(world, {"type": "visit"})
    assert (applied.status, applied.error_code) == ("FAILED", "group_archived")
    assert level_of(group) is None


def test_an_event_naming_the_group_starts_its_inactivity_wait_again(world):
    record = household_tier(world, {"retention": {"mode": "ACTIVITY_REFRESH", "duration": "720h"}})
    group = household(world)
    set_at = utcnow() - timedelta(days=10)
    with write_transaction():
        origin = owner_state.Origin(program_id=world.program.id, at=set_at)
        owner_state.set_tier(world.org.id, group.id, record, "gold", 2, origin, reason="API", owner_type="GROUP")
    assert level_of(group).review_at == set_at + timedelta(days=30)
    applied = process(world, {"type": "visit", "group_id": group.id})
    assert applied.status == "COMPLETED", applied.error_message
    assert level_of(group).review_at == applied.record.created_at + timedelta(days=30)
    assert applied.tier_moves == []  # the level stays; only its wait starts again
