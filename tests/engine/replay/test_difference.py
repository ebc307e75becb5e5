"""The difference between two end states: what ends differently for whom, largest first, and
the per-asset change in what the program owes."""

from __future__ import annotations

from decimal import Decimal

from engine.model.state import Balance, CounterState, EntityState, TierState
from engine.replay.difference import asset_changes, participant_changes
from engine.replay.outcomes import Tally


def _entity(available: str, **fields) -> EntityState:
    return EntityState(external_id="x", balances={"PTS": Balance(available=Decimal(available))}, **fields)


def test_participants_that_end_differently_are_listed_largest_first_with_every_kind_of_state():
    baseline = {"a": _entity("10"), "b": _entity("10"), "c": _entity("10", tags=["vip"])}
    candidate = {
        "a": _entity("12"),
        "b": _entity(
            "40", counters={"visits": CounterState(value=Decimal(1))}, tiers={"s": TierState(level="g", rank=1)}
        ),
        "c": _entity("10", attributes={"city": "Lyon"}),
    }
    changes = participant_changes(baseline, candidate)
    assert [change.participant_id for change in changes] == ["b", "a", "c"]
    b, _, c = changes
    assert b.balances == {"PTS": {"available": [Decimal(10), Decimal(40)]}} and b.magnitude == 30
    assert b.counters == {"visits": [None, Decimal(1)]} and b.tiers == {"s": [None, "g"]}
    assert c.tags == {"vip": [True, False]} and c.attributes == {"city": [None, "Lyon"]} and c.balances == {}
    assert participant_changes(baseline, dict(baseline)) == []


def test_the_liability_change_is_the_candidate_s_balances_less_the_baseline_s():
    (pts,) = asset_changes(Tally(), Tally(), {"a": _entity("10")}, {"a": _entity("12.50")})
    assert pts.asset == "PTS" and pts.liability_change == Decimal("2.50") and pts.before == pts.after


def test_credits_per_day_cover_every_day_between_the_first_and_the_last_with_zeros():
    before, after = Tally(), Tally()
    before.credited_by_day = {"PTS": {"2026-03-01": Decimal(5), "2026-03-03": Decimal(7)}}
    after.credited_by_day = {"PTS": {"2026-03-01": Decimal(10)}}
    (pts,) = asset_changes(before, after, {"a": _entity("1")}, {"a": _entity("1")})
    assert [(d.day, d.before, d.after) for d in pts.daily] == [
        ("2026-03-01", Decimal(5), Decimal(10)),
        ("2026-03-02", Decimal(0), Decimal(0)),
        ("2026-03-03", Decimal(7), Decimal(0)),
    ]
    (nothing,) = asset_changes(Tally(), Tally(), {"a": _entity("1")}, {"a": _entity("1")})
    assert nothing.daily == []
