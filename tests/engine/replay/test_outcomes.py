"""Counting one ruleset's results, and comparing an outcome with the other ruleset's and with
what was recorded."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import msgspec

from engine.model.history import RecordedRule
from engine.model.state import ProgramState
from engine.replay.outcomes import Tally, outcome_of, recorded_outcome, reproduction_mismatch
from engine.replay.world import ReplayWorld
from tests.engine.replay.programs import T0, event, program, seed


def test_a_tally_counts_rules_and_the_value_each_asset_moved():
    world, tally = ReplayWorld(program(), seed=seed, program_state=ProgramState()), Tally()
    for recorded in (event(1), event(2, amount=None), event(3, amount=-1.0)):
        tally.count(world.evaluate(recorded))
    assert (tally.events, tally.failed) == (3, 1)
    assert msgspec.to_builtins(tally.rules) == {
        "visit": {"matched": 3, "skipped": 0, "erroring": 0},
        "earn": {"matched": 2, "skipped": 0, "erroring": 0},  # no amount: its condition is false
        "gold": {"matched": 1, "skipped": 0, "erroring": 0},
    }
    assert tally.assets["PTS"].credited == Decimal("10.00")  # the failed event moved nothing


def test_the_baseline_reproduces_a_record_that_matches_and_reports_one_that_does_not():
    world = ReplayWorld(program(), seed=seed, program_state=ProgramState())
    recorded = event(1)
    result = world.evaluate(recorded)
    assert reproduction_mismatch(recorded, outcome_of(result)) is None
    edited = event(1)
    edited.rules = [edited.rules[0], RecordedRule(rule="earn", status="SKIPPED_ERROR", error_code="DSL_ERROR")]
    mismatch = reproduction_mismatch(edited, outcome_of(result))
    assert mismatch is not None and mismatch.event_id == "e001"
    assert mismatch.recorded["rules"][1]["status"] == "SKIPPED_ERROR"
    assert mismatch.replayed["rules"][1]["actions"] == [{"type": "CREDIT", "asset": "PTS", "amount": Decimal("10.00")}]
    failed = event(1, status="FAILED", error_code="insufficient_funds")
    assert reproduction_mismatch(failed, outcome_of(result)) is not None


def test_outcomes_differ_by_amount_and_agree_otherwise():
    one = ReplayWorld(program(), seed=seed, program_state=ProgramState()).evaluate(event(1))
    same = ReplayWorld(program(), seed=seed, program_state=ProgramState()).evaluate(event(1))
    doubled = ReplayWorld(program("2.0"), seed=seed, program_state=ProgramState()).evaluate(event(1))
    assert outcome_of(one) == outcome_of(same) and outcome_of(one) != outcome_of(doubled)


def test_a_tally_counts_the_value_credited_per_utc_day_of_the_events_now():
    world, tally = ReplayWorld(program(), seed=seed, program_state=ProgramState()), Tally()
    for recorded in (event(1), event(2), event(60 * 24 + 1)):  # the third a day later
        tally.count(world.evaluate(recorded))
    first = (T0 + timedelta(minutes=1)).date()
    assert tally.credited_by_day == {
        "PTS": {first.isoformat(): Decimal("20.00"), (first + timedelta(days=1)).isoformat(): Decimal("10.00")}
    }


def test_a_resolved_outcome_equals_its_stored_form_and_actions_in_another_order_still_reproduce():
    world = ReplayWorld(program(), seed=seed, program_state=ProgramState())
    result = world.evaluate(event(1))
    replayed = outcome_of(result)
    stored = event(1)
    # the stored form: plain data, amounts as text, the default status left out
    stored.rules = [
        RecordedRule(rule=o.rule, status=str(o.status), actions=[msgspec.to_builtins(a) for a in o.actions])
        for o in result.rules
        if o.status != "NOT_MATCHED"
    ]
    assert recorded_outcome(stored) == replayed
    stored.rules = list(reversed(stored.rules))  # the same rules, written in another order
    assert recorded_outcome(stored) != replayed and reproduction_mismatch(stored, replayed) is None
