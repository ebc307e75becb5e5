from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest
import yaml

from engine.model.bundle import GroupInput, StateInput
from engine.model.bundle import TestCase as BundleTestCase
from engine.model.result import EvaluationResult, ResolvedAction, ResolvedTarget, RuleOutcome, RuleStatus
from engine.model.state import Balance, CounterState, EntityState, GroupState, ProgramState, TierState
from playground.inputs import PlaygroundEvent, StatePane
from playground.testcase import AppendError, append_test_case, build_test_case, expectation_of, render_test_case

WHEN = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ME = ResolvedTarget(type="PARTICIPANT", role="participant")


def _result(**changes) -> EvaluationResult:
    fields = {
        "status": "COMPLETED",
        "evaluated_at": WHEN,
        "rules": [
            RuleOutcome(rule="base points", order=10, status=RuleStatus.MATCHED),
            RuleOutcome(rule="vip bonus", order=20, status=RuleStatus.NOT_MATCHED),
            RuleOutcome(rule="broken", order=30, status=RuleStatus.SKIPPED_ERROR, error="no such key: sku"),
        ],
        "actions": [
            ResolvedAction(rule="base points", index=0, type="CREDIT", target=ME, asset="POINTS", amount=Decimal("5")),
            ResolvedAction(
                rule="base points", index=1, type="CREDIT", target=ME, asset="POINTS", amount=Decimal("2.5")
            ),
            ResolvedAction(rule="base points", index=2, type="DEBIT", target=ME, asset="STAMPS", amount=Decimal("1")),
            ResolvedAction(rule="base points", index=3, type="TAG", target=ME, tag="buyer"),
        ],
        "state_changes": [],
        "budget_uses": [],
        "participant": EntityState(
            tags=["buyer"],
            counters={"visits": CounterState(value=Decimal("4")), "spend": CounterState(value=Decimal("12.5"))},
            attributes={"city": "Oslo"},
            tiers={"status": TierState(level="gold", rank=2)},
            balances={"POINTS": Balance(available=Decimal("7.5")), "STAMPS": Balance(held=Decimal("1"))},
        ),
        "program": ProgramState(),
    }
    fields.update(changes)
    return EvaluationResult(**fields)


def test_expectation_pins_statuses_amounts_and_state_after():
    expect = expectation_of(_result())
    assert expect.status == "COMPLETED"
    assert expect.matched == ["base points"]
    assert expect.statuses == {"broken": "SKIPPED_ERROR"}
    assert expect.credits == {"POINTS": "7.5"}
    assert expect.debits == {"STAMPS": "1"}
    assert expect.tags == ["buyer"]
    assert expect.counters == {"visits": 4, "spend": "12.5"}
    assert expect.tiers == {"status": "gold"}
    assert expect.balances == {"POINTS": "7.5", "STAMPS": {"available": "0", "held": "1", "deferred": "0"}}


def test_the_group_after_the_event_is_pinned_with_the_group_given():
    group = GroupState(
        id="hh", tags=["active"], counters={"buys": CounterState(value=Decimal(4))}, balances={"POINTS": Balance()}
    )
    expect = expectation_of(_result(group=group))
    assert msgspec.to_builtins(expect.group) == {
        "tags": ["active"],
        "counters": {"buys": 4},
        "balances": {"POINTS": "0"},
    }
    states = StatePane(group=GroupInput(id="hh", tags=["old"]))
    case = build_test_case("pooled", PlaygroundEvent(event_timestamp=WHEN), states, _result(group=group))
    [again] = msgspec.convert(yaml.safe_load(render_test_case(case)), list[BundleTestCase])
    assert again.group == GroupInput(id="hh", tags=["old"]) and again.expect.group == expect.group


def test_failed_event_expects_the_failure_only():
    expect = expectation_of(_result(status="FAILED", error_code="insufficient_funds"))
    assert (expect.status, expect.error_code, expect.matched) == ("FAILED", "insufficient_funds", None)


def test_rendered_block_is_yaml_that_reads_back_as_the_test_case(snapshot):
    event = PlaygroundEvent(event_timestamp=WHEN, event_data={"amount": 12.5, "sku": "latte"})
    case = build_test_case("  latte  ", event, StatePane(participant=StateInput(tags=["vip"])), _result())
    block = render_test_case(case)
    assert block == snapshot
    [again] = msgspec.convert(yaml.safe_load(block), list[BundleTestCase])
    assert again.name == "latte"
    assert again.event == {"amount": 12.5, "sku": "latte"}
    assert again.event_timestamp == WHEN
    assert again.expect == case.expect


def test_blank_name_gets_a_default():
    event = PlaygroundEvent(event_timestamp=WHEN)
    assert build_test_case("", event, StatePane(), _result()).name == "playground case"


BLOCK = "- name: n\n  event: {}\n"


def test_append_creates_tests_when_missing():
    assert append_test_case("program: {key: p, name: P}", BLOCK) == "program: {key: p, name: P}\ntests:\n" + BLOCK


def test_append_goes_after_the_last_item_with_its_indentation():
    text = "program: {key: p, name: P}\ntests:\n  - name: a\n    event: {}\n\n# rules below\nrules: []\n"
    appended = append_test_case(text, BLOCK)
    assert appended == (
        "program: {key: p, name: P}\ntests:\n  - name: a\n    event: {}\n  - name: n\n    event: {}\n"
        "\n# rules below\nrules: []\n"
    )
    assert [t["name"] for t in yaml.safe_load(appended)["tests"]] == ["a", "n"]


@pytest.mark.parametrize("text", ["program: {}\ntests: []\n", "- a\n- b\n", "tests: 3\n", "a: [\n"])
def test_append_refuses_what_it_cannot_extend_safely(text):
    with pytest.raises(AppendError):
        append_test_case(text, BLOCK)
