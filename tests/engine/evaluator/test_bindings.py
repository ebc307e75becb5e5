from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from engine.evaluator.bindings import (
    EventDataError,
    counters_binding,
    entity_binding,
    event_binding,
    event_data_binding,
    is_counter_expired,
    program_binding,
)
from engine.model.state import CounterState, EntityState, ProgramState, TierState

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_json_numbers_become_doubles_recursively():
    data = {"amount": 120, "price": 1.5, "items": [{"qty": 2, "tags": ["a"]}], "ok": True, "none": None}
    bound = event_binding(data)
    assert bound == {"amount": 120.0, "price": 1.5, "items": [{"qty": 2.0, "tags": ["a"]}], "ok": True, "none": None}
    assert type(bound["amount"]) is float and type(bound["items"][0]["qty"]) is float
    assert bound["ok"] is True  # a bool is not a number


def test_yaml_values_are_mapped():
    aware = datetime(2026, 2, 1, tzinfo=UTC)
    bound = event_binding({"at": aware, "naive": datetime(2026, 2, 1), "day": date(2026, 2, 1), "d": Decimal("2.5")})
    assert bound["at"] == aware
    assert bound["naive"].tzinfo is UTC
    assert bound["day"] == "2026-02-01"
    assert bound["d"] == 2.5


@pytest.mark.parametrize("data", [{1: "x"}, {"x": object()}, {"x": {1, 2}}])
def test_values_outside_json_are_rejected_with_a_code(data):
    with pytest.raises(EventDataError) as caught:
        event_binding(data)
    assert caught.value.code == "invalid_event_data"


def test_entity_binding_has_the_documented_shape():
    state = EntityState(
        id="p1",
        external_id="alice",
        tags=["vip"],
        counters={"visits": CounterState(value=Decimal("3"))},
        attributes={"city": "Oslo"},
        tiers={"status": TierState(level="gold", rank=2)},
    )
    assert entity_binding(state, NOW) == {
        "id": "p1",
        "external_id": "alice",
        "status": "ACTIVE",
        "tags": ["vip"],
        "counters": {"visits": 3.0},
        "attributes": {"city": "Oslo"},
        "tiers": {"status": {"level": "gold", "rank": 2}},
    }
    assert entity_binding(None, NOW) is None


def test_program_binding():
    state = ProgramState(tags=["launch"], counters={"n": CounterState(value=Decimal(1))}, attributes={"a": "b"})
    assert program_binding(state, NOW) == {"tags": ["launch"], "counters": {"n": 1.0}, "attributes": {"a": "b"}}


def test_counters_reset_lazily_once_reset_after_has_elapsed():
    due = CounterState(value=Decimal(5), reset_after="24h", last_reset_at=NOW - timedelta(hours=24))
    fresh = CounterState(value=Decimal(5), reset_after="24h", last_reset_at=NOW - timedelta(hours=23))
    forever = CounterState(value=Decimal(5))
    assert is_counter_expired(due, NOW) and not is_counter_expired(fresh, NOW)
    assert not is_counter_expired(forever, NOW)
    assert counters_binding({"due": due, "fresh": fresh, "forever": forever}, NOW) == {
        "due": 0.0,
        "fresh": 5.0,
        "forever": 5.0,
    }


def test_event_data_must_be_an_object():
    assert event_data_binding({"n": 1}) == {"n": 1.0}
    with pytest.raises(EventDataError):
        event_data_binding([1, 2])
