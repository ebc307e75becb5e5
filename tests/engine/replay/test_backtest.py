"""A backtest over a recorded history: an identical candidate changes nothing; a changed one
changes exactly what it should, in the recorded order, with changes made around the events."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from engine.model.history import StateRecord
from engine.model.state import ProgramState
from engine.replay.backtest import run_backtest
from tests.engine.replay.programs import T0, event, program, recorded_by, seed

HISTORY = recorded_by(program(), [event(1), event(2, participant="p-bob", amount=20.0), event(3), event(4)])


def _run(baseline, candidate, history=HISTORY, **options):
    return run_backtest(
        baseline,
        candidate,
        history,
        seed=seed,
        program_state=ProgramState(),
        tracked={"p-alice", "p-bob"},
        **options,
    )


def test_an_identical_candidate_gives_an_empty_difference():
    difference = _run(program(), program())
    assert difference.empty and difference.reproduced and difference.changed_events == 0
    assert (difference.events, difference.participants) == (4, 2)


def test_a_changed_multiplier_and_threshold_give_the_expected_differences():
    ticks: list[int] = []
    difference = _run(program(), program("2.0", visits=3), progress=ticks.append, sample=1)
    assert len(ticks) == 4 and not difference.empty and difference.changed_events == 4
    alice, bob = (
        {change.participant_id: change for change in difference.participant_changes}[who]
        for who in ("p-alice", "p-bob")
    )
    assert alice.balances["PTS"]["available"] == [Decimal("35.00"), Decimal("65.00")]
    assert alice.tiers == {} and bob.balances["PTS"]["available"] == [Decimal("25.00"), Decimal("45.00")]
    gold = {change.rule: change for change in difference.rules}["gold"]
    assert (gold.before.matched, gold.after.matched) == (2, 1)  # visits 2 and 3, then only 3
    (sample,) = difference.samples
    assert sample.event_id == "e001" and sample.baseline["rules"] != sample.candidate["rules"]
    steps = {step["text"]: step.get("value") for step in sample.baseline_trace["gold"]}
    assert steps['get(participant.counters, "visits", 0.0)'] == 1.0  # what the threshold read after one visit
    assert steps['get(participant.counters, "visits", 0.0) >= 2.0'] is False
    assert [s["text"] for s in sample.candidate_trace["earn"]][-1] == "has(event.amount)"
    assert [(change.asset, change.liability_change) for change in difference.assets] == [("PTS", Decimal("50.00"))]


def test_a_change_recorded_between_events_is_applied_before_the_next_one():
    reset = StateRecord(
        at=T0 + timedelta(minutes=2, seconds=30),
        owner_type="PARTICIPANT",
        owner_id="p-alice",
        state_type="counter",
        key="visits",
        operation="set",
        old_value="1",
        new_value="0",
    )
    ignored = StateRecord(
        at=T0, owner_type="PARTICIPANT", owner_id="p-carol", state_type="tag", key="vip", operation="add"
    )
    history = [ignored, *HISTORY[:2], reset, *HISTORY[2:]]
    difference = _run(program(), program(), history)
    assert difference.empty and difference.participants == 2  # carol is not tracked
    assert not difference.reproduced  # the record was made without the reset: alice went gold earlier
    gold = {change.rule: change for change in difference.rules}["gold"]
    assert gold.before.matched == 1  # alice's counter was set back to 0 before her second event


BUDGETED = """
program: {{key: shop, name: Shop}}
assets:
  - {{symbol: PTS, name: Points, scale: 2}}
rules:
  - name: earn
    condition: "true"
    budgets: [{{asset_id: PTS, limit: "{limit}"}}]
    actions:
      - {{type: CREDIT, asset_id: PTS, amount: "event.amount"}}
"""


def test_a_budget_the_candidate_exhausts_is_reported_with_when():
    from engine.rules.loader import load_bundle_text

    baseline, candidate = (load_bundle_text(BUDGETED.format(limit=limit)).program for limit in ("100", "15"))
    assert baseline is not None and candidate is not None
    history = [event(1), event(2, participant="p-bob"), event(3)]
    difference = run_backtest(
        baseline, candidate, history, seed=seed, program_state=ProgramState(), tracked={"p-alice", "p-bob"}
    )
    (budget,) = difference.budgets
    assert (budget.rule, budget.before, budget.after) == ("earn", None, history[1].received_at)
    assert not difference.empty
