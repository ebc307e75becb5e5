from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from engine.store import owner_state
from engine.store.models import StateCounter, StateHistory, StateTag

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_tags_are_lower_cased_sets_with_history(world):
    origin = owner_state.Origin(api_key_id="k1")
    assert owner_state.add_tag(world.org.id, "PARTICIPANT", world.alice.id, "VIP", origin)
    assert not owner_state.add_tag(world.org.id, "PARTICIPANT", world.alice.id, "vip", origin)
    assert owner_state.remove_tag(world.org.id, "PARTICIPANT", world.alice.id, "vip", origin)
    assert not owner_state.remove_tag(world.org.id, "PARTICIPANT", world.alice.id, "vip", origin)
    assert StateTag.select().count() == 0
    rows = [(h.operation, h.changed_by_api_key_id) for h in StateHistory.select().order_by(StateHistory.id)]
    assert rows == [("add", "k1"), ("remove", "k1")]


def test_counters_auto_reset_after_their_period(world):
    origin = owner_state.Origin()
    inc = lambda at: owner_state.increment_counter(
        world.org.id,
        "PARTICIPANT",
        world.alice.id,
        "daily",
        Decimal(1),
        origin,
        "24h",
        at=at,
    )
    assert inc(T0) == 1 and inc(T0 + timedelta(hours=23)) == 2
    assert inc(T0 + timedelta(hours=25)) == 1
    row = StateCounter.get(StateCounter.key == "daily")
    assert row.last_reset_at == T0 + timedelta(hours=25)
    ops = [h.operation for h in StateHistory.select().order_by(StateHistory.id)]
    assert ops == ["set", "set", "auto_reset", "set"]


def test_a_counter_resets_exactly_when_its_period_has_elapsed(world):
    """Regression: storage reset a counter only after the boundary while the evaluator (A21) and
    the rules reset it at the boundary, so an event at exactly that moment saw two values."""
    inc = lambda at: owner_state.increment_counter(
        world.org.id, "PARTICIPANT", world.alice.id, "daily", Decimal(1), owner_state.Origin(), "24h", at=at
    )
    assert inc(T0) == 1
    assert inc(T0 + timedelta(hours=24)) == 1


def test_attributes_and_absolute_counters(world):
    origin = owner_state.Origin()
    assert owner_state.set_attribute(world.org.id, "PARTICIPANT", world.alice.id, "city", "Oslo", origin)
    assert not owner_state.set_attribute(world.org.id, "PARTICIPANT", world.alice.id, "city", "Oslo", origin)
    owner_state.set_counter(world.org.id, "PARTICIPANT", world.alice.id, "n", Decimal("4.5"), origin, reset_after="1h")
    _tags, counters, attributes = owner_state.load_entity_state("PARTICIPANT", world.alice.id)
    assert attributes == {"city": "Oslo"} and counters["n"].value == Decimal("4.5")
    assert counters["n"].reset_after == "1h"
    assert owner_state.delete_counter(world.org.id, "PARTICIPANT", world.alice.id, "n", origin)
    assert owner_state.delete_attribute(world.org.id, "PARTICIPANT", world.alice.id, "city", origin)
    assert owner_state.load_entity_state("PARTICIPANT", world.alice.id) == ([], {}, {})
