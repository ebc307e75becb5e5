"""Run a bundle's automation tests: what an automation fires for a participant in a window of
time, compared with what the test expects (`automation_tests:` in a bundle file).

    automation_tests:
      - name: the bonus comes on the birthday, at nine in London
        automation: birthday_bonus
        at: 2026-06-15T08:00:00Z
        participant: {attributes: {birthday: "06-15"}}
        expect: {fires: [2026-06-15T08:00:00Z], event: {type: birthday, bonus: 100}}

    >>> [(r.name, r.passed) for r in run_automation_tests(load_bundle("rules_examples/birthdays.yaml"))][:1]
    [('the bonus comes on the birthday, at nine in London', True)]
"""

from __future__ import annotations

from typing import Any

import msgspec

from engine.evaluator.automations import Anchors, as_utc, firings, window
from engine.evaluator.case_lots import TestInputError
from engine.evaluator.cases import TestCaseResult, program_state_from_input, state_from_input
from engine.model.automation import AutomationTestCase
from engine.model.bundle import Bundle, ProgramStateInput, StateInput
from engine.rules.automations import CompiledAutomation, compile_automations


def run_automation_tests(loaded: Any) -> list[TestCaseResult]:
    """Every automation test of a loaded bundle (`engine.rules.loader.LoadedBundle`) that
    compiled; an empty list when it did not (its problems say why)."""
    if loaded.program is None or loaded.bundle is None:
        return []
    bundle: Bundle = loaded.bundle
    compiled, _ = compile_automations(bundle.automations, bundle.program.timezone)
    by_name = {automation.name: automation for automation in compiled}
    return [run_automation_test(by_name, bundle, case) for case in bundle.automation_tests]


def run_automation_test(
    automations: dict[str, CompiledAutomation], bundle: Bundle, case: AutomationTestCase
) -> TestCaseResult:
    automation = automations.get(case.automation)
    if automation is None:
        return TestCaseResult(name=case.name, passed=False, diff=[f"unknown automation {case.automation!r}"])
    after, until = window(case.at, case.after)
    try:
        participant = None
        if automation.spec.scope == "participants":
            participant = state_from_input(msgspec.convert(msgspec.to_builtins(case.participant), StateInput), bundle)
        program = program_state_from_input(
            msgspec.convert(msgspec.to_builtins(case.program), ProgramStateInput), bundle
        )
    except TestInputError as exc:
        return TestCaseResult(name=case.name, passed=False, diff=[f"cannot build the state: {exc.message}"])
    anchors = Anchors(subscribed_at=case.subscribed_at, last_event_at=case.last_event_at)
    found = firings(automation, participant, program, after, until, anchors)
    fired = [firing for firing in found if firing.fired]
    diff: list[str] = []
    if case.expect.fires is not None:
        wanted = [_text(moment) for moment in case.expect.fires]
        actual = [_text(firing.at) for firing in fired]
        if wanted != actual:
            diff.append(f"fires: expected [{', '.join(wanted)}], got [{', '.join(actual)}]")
    if case.expect.event is not None:
        if not fired:
            diff.append("event: expected an event, nothing fired")
        elif fired[0].event_data != _plain(case.expect.event):
            diff.append(f"event: expected {_plain(case.expect.event)}, got {fired[0].event_data}")
    if diff:
        skipped = [f"{_text(firing.at)} not fired ({firing.reason})" for firing in found if not firing.fired]
        diff += skipped[:5]
    return TestCaseResult(name=case.name, passed=not diff, diff=diff)


def _text(moment: Any) -> str:
    """A time as RFC 3339 in UTC, as test files write them."""
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return msgspec.to_builtins(data)
