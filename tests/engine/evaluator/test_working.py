from datetime import timedelta
from decimal import Decimal

from engine.evaluator.working import WorkingState, copy_entity, decimal_text
from engine.model.state import Balance, BudgetState, CounterState, ProgramState, TierState
from tests.engine.evaluator.support import T0, person


def start(participant=None, recipient=None, program=None, budgets=None):
    return WorkingState.start(participant or person(), recipient, program or ProgramState(), budgets or {}, T0)


def test_copies_are_independent_of_the_inputs():
    original = person(tags=["B", "a", "b"], balances={"PTS": {"available": 3}})
    copy = copy_entity(original)
    copy.balances["PTS"].available += 1
    copy.tags.append("x")
    assert original.balances["PTS"].available == Decimal(3)
    assert copy.tags[:2] == ["a", "b"]  # lower-cased, de-duplicated, sorted


def test_changes_are_recorded_once_and_mark_bindings_stale():
    working = start()
    bindings = working.bindings({"type": "x"})
    working.add_tag("participant", "vip", rule="r")
    working.add_tag("participant", "vip", rule="r")
    working.set_attribute("participant", "city", "Oslo", rule="r")
    working.set_attribute("participant", "city", "Oslo", rule="r")
    assert [(c.state_type, c.operation) for c in working.changes] == [("tag", "add"), ("attribute", "set")]
    working.refresh(bindings)
    assert bindings["participant"]["tags"] == ["vip"]
    assert bindings["participant"]["attributes"] == {"city": "Oslo"}
    assert not working.stale


def test_program_state_changes():
    working = start()
    bindings = working.bindings({})
    working.increment_counter("program", "launches", Decimal(2), None, rule="r")
    working.remove_tag("program", "absent", rule="r")
    working.refresh(bindings)
    assert bindings["program"]["counters"] == {"launches": 2.0}
    assert working.changes[0].target.type == "PROGRAM"


def test_expired_counters_of_every_entity_reset_at_start():
    stale = CounterState(value=Decimal(4), reset_after="1h", last_reset_at=T0 - timedelta(hours=1))
    program = ProgramState(counters={"p": stale})
    working = start(person(counters={"a": stale}), person("bob", counters={"b": stale}), program)
    assert [(c.target.role or c.target.type, c.key) for c in working.changes] == [
        ("participant", "a"),
        ("recipient", "b"),
        ("PROGRAM", "p"),
    ]
    assert working.participant.counters["a"].value == 0


def test_set_tier_records_levels_and_remembers_rule_driven_changes():
    working = start(person(tiers={"status": TierState(level="bronze", rank=0)}))
    working.set_tier("participant", "status", "gold", 2, rule="r")
    working.set_tier("participant", "status", "gold", 2, rule="r")
    assert [(c.old_value, c.new_value) for c in working.changes] == [("bronze", "gold")]
    assert ("participant", "status") in working.tiers_set


def test_budgets_accumulate_within_the_event():
    working = start(budgets={("r", "PTS"): BudgetState(consumed=Decimal(5))})
    assert working.budget_fits("r", "PTS", Decimal(5), Decimal(10))
    working.consume_budget("r", "PTS", Decimal(5))
    assert not working.budget_fits("r", "PTS", Decimal("0.01"), Decimal(10))
    assert [(u.rule, u.amount) for u in working.budget_use_list()] == [("r", Decimal(5))]


def test_decimal_text_never_uses_exponents():
    assert decimal_text(Decimal("1E+2")) == "100"
    assert decimal_text(Decimal("1E-18")) == "0.000000000000000001"
    assert Balance().available == 0
