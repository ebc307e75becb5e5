from datetime import UTC, datetime
from decimal import Decimal

from engine.model.lots import Lot
from engine.model.result import SettledLot
from engine.model.state import CounterState, EntityState, TierState
from playground.state_view import lot_rows, state_rows


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


def test_lots_are_a_table_of_their_own_with_what_ended_each_lot():
    def lot(lot_id, remaining, status="AVAILABLE", **fields):
        earned = datetime(2025, 1, 1, tzinfo=UTC)
        return Lot(
            id=lot_id, amount=Decimal(50), remaining=Decimal(remaining), status=status, created_at=earned, **fields
        )

    expiry = datetime(2026, 1, 1, tzinfo=UTC)
    before = EntityState(lots={"MILES": [lot("a", 50, expires_at=expiry), lot("b", 50), lot("c", 30)]})
    after = EntityState(lots={"MILES": [lot("c", 10), lot("new-1", 5, "HELD", reference_id="o-1")]})
    settled = [SettledLot(role="participant", asset="MILES", lot_id="a", kind="EXPIRED", amount=Decimal(50))]
    assert "lots" not in [row.field for row in state_rows(before, after)]
    rows = {row.lot: row for row in lot_rows(before, after, settled, "participant")}
    assert [(row.before, row.after, row.changed) for row in rows.values()] == [
        ("50 AVAILABLE", "expired", True),
        ("50 AVAILABLE", "spent", True),
        ("30 AVAILABLE", "10 AVAILABLE", True),
        ("", "5 HELD (o-1)", True),
    ]
    assert (rows["a"].earned, rows["a"].expires, rows["a"].matures) == (
        "2025-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
        "",
    )
    assert lot_rows(before, after, settled, "recipient")[0].after == "spent"  # settled lots are per role


def test_tier_rows_show_levels_and_when_the_lifecycle_next_looks():
    import msgspec

    from engine.model.bundle import Bundle
    from engine.model.result import ResolvedTarget, StateChange
    from playground.state_view import tier_rows

    bundle = msgspec.convert(
        {
            "program": {"key": "p", "name": "P", "timezone": "Asia/Tokyo"},
            "tiers": [
                {
                    "key": "status",
                    "levels": [{"key": "gold", "rank": 1}],
                    "lifecycle": {
                        "retention": {"mode": "PERIOD_BASED"},
                        "qualification_period": {"type": "CALENDAR_YEAR"},
                    },
                },
                {"key": "promo", "levels": [{"key": "vip", "rank": 1}]},
                {"key": "club", "levels": [{"key": "a", "rank": 1}]},
            ],
        },
        Bundle,
    )
    at = datetime(2026, 6, 1, tzinfo=UTC)
    lapse = datetime(2026, 7, 1, tzinfo=UTC)
    before = EntityState(tiers={"status": TierState(level="gold", rank=1), "club": TierState(level="a", rank=1)})
    after = EntityState(tiers={"status": TierState(level="gold", rank=1), "promo": TierState(level="vip", rank=1)})
    change = StateChange(
        target=ResolvedTarget(type="PARTICIPANT", role="participant"),
        state_type="tier",
        key="promo",
        operation="set",
        new_value="vip",
        expires_at=lapse,
    )
    rows = [
        (r.tier, r.before, r.after, r.next_review, r.reason, r.changed)
        for r in tier_rows(bundle, before, after, [change], at)
    ]
    assert rows == [
        ("status", "gold", "gold", "2026-12-31T15:00:00Z", "period end", False),
        ("promo", "", "vip", "2026-07-01T00:00:00Z", "expiry", True),
        ("club", "a", "", "", "", True),
    ]
