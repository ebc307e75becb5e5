"""engine.evaluator.automation_cases: a bundle's automation tests, passing and failing."""

from __future__ import annotations

from engine.evaluator.automation_cases import run_automation_tests
from engine.rules.loader import load_bundle_text

BUNDLE = """\
program: {key: demo, name: Demo, timezone: Europe/Paris}
automations:
  - name: weekly_nudge
    event_name: nudge
    payload: {channel: email, type: overridden}
    scope: participants
    trigger: {type: cron, cron_expression: "0 9 * * MON"}
    guard_condition: "'lapsed' in participant.tags"
  - name: streak
    event_name: streak
    scope: participants
    trigger: {type: participant_state, schedule_type: THRESHOLD, schedule_config: {counter: visits, threshold: 5}}
  - name: launch
    event_name: launch
    scope: program
    trigger: {type: one_time, trigger_at: 2026-06-01T09:00:00Z}
    guard_condition: program.attributes.phase == "live"
automation_tests:
  - name: nudges a lapsed member at nine in Paris
    automation: weekly_nudge
    at: 2026-01-05T08:00:00Z
    participant: {tags: [lapsed]}
    expect: {fires: [2026-01-05T08:00:00Z], event: {channel: email, type: nudge}}
  - name: expects a nudge for an active member
    automation: weekly_nudge
    at: 2026-01-05T08:00:00Z
    expect: {fires: [2026-01-05T08:00:00Z]}
  - name: expects the wrong event
    automation: weekly_nudge
    at: 2026-01-05T08:00:00Z
    participant: {tags: [lapsed]}
    expect: {event: {type: nudge}}
  - name: the fifth visit meets the threshold
    automation: streak
    at: 2026-01-05T08:00:00Z
    participant: {counters: {visits: 5}}
    expect: {fires: [2026-01-05T08:00:00Z]}
  - name: the launch fires for the program when live
    automation: launch
    after: 2026-05-01T00:00:00Z
    at: 2026-07-01T00:00:00Z
    program: {attributes: {phase: live}}
    expect: {fires: [2026-06-01T09:00:00Z]}
  - name: expects an event when the program is not live
    automation: launch
    after: 2026-05-01T00:00:00Z
    at: 2026-07-01T00:00:00Z
    expect: {event: {type: launch}}
  - name: a bad counter value
    automation: streak
    at: 2026-01-05T08:00:00Z
    participant: {counters: {visits: lots}}
    expect: {fires: []}
"""


def results():
    loaded = load_bundle_text(BUNDLE, filename="demo.yaml")
    assert loaded.ok, [problem.format() for problem in loaded.problems]
    return {result.name: result for result in run_automation_tests(loaded)}


def test_passing_cases_pass():
    found = results()
    for name in ("nudges a lapsed member at nine in Paris", "the fifth visit meets the threshold"):
        assert found[name].passed, found[name].diff
    assert found["the launch fires for the program when live"].passed


def test_failing_cases_say_what_differs_and_why_nothing_fired():
    found = results()
    assert found["expects a nudge for an active member"].diff == [
        "fires: expected [2026-01-05T08:00:00Z], got []",
        "2026-01-05T08:00:00Z not fired (guard_condition is false)",
    ]
    assert found["expects the wrong event"].diff == [
        "event: expected {'type': 'nudge'}, got {'channel': 'email', 'type': 'nudge'}"
    ]
    assert found["expects an event when the program is not live"].diff[0] == "event: expected an event, nothing fired"


def test_a_state_that_cannot_be_built_fails_its_case():
    case = results()["a bad counter value"]
    assert not case.passed
    assert case.diff[0].startswith("cannot build the state: ")


def test_a_bundle_that_does_not_compile_runs_no_automation_tests():
    loaded = load_bundle_text(BUNDLE.replace("0 9 * * MON", "0 9 * *"))
    assert not loaded.ok
    assert run_automation_tests(loaded) == []
