from datetime import UTC, datetime
from decimal import Decimal

from engine.model.state import CounterState, EntityState, TierState
from playground.state_view import state_rows


def test_every_field_is_a_row_in_cel_notation_and_changes_are_flagged():
    before = EntityState(tags=["vip"], counters={"stamps": CounterState(value=Decimal(4))})
    after = EntityState(
        tags=["vip"],
        counters={"stamps": CounterState(value=Decimal(5), last_reset_at=datetime(2026, 1, 1, tzinfo=UTC))},
        tiers={"status": TierState(level="gold", rank=1)},
        attributes={"city": "Paris"},
    )
    rows = {row.field: row for row in state_rows(before, after)}
    assert list(rows) == ["status", "tags", "counters", "attributes", "tiers"]  # no balances, no unset ids
    assert rows["tags"].before == '["vip"]' and not rows["tags"].changed
    assert rows["counters"].before == '{"stamps": 4}'
    assert rows["counters"].after == '{"stamps": {"value": 5, "last_reset_at": timestamp("2026-01-01T00:00:00Z")}}'
    assert rows["tiers"].after == '{"status": {"level": "gold", "rank": 1}}' and rows["tiers"].changed
    assert rows["attributes"].after == '{"city": "Paris"}'


def test_identity_fields_appear_when_set():
    rows = [row.field for row in state_rows(EntityState(external_id="u1"), EntityState(external_id="u1"))]
    assert rows[0] == "external_id"
