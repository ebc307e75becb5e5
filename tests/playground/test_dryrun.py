import json

from hypothesis import given, settings
from hypothesis import strategies as st

import dsl.limits
import engine.evaluator.evaluate
from playground.dryrun import RunForm, dry_run, is_single_rule, load_cached, wrap_single_rule
from tests.playground import samples

HUNDRED = "[" + ", ".join(str(n) for n in range(100)) + "]"
EVERY_STATUS = f"""\
program: {{key: statuses, name: Statuses}}
assets:
  - {{symbol: PTS, name: Points, scale: 0}}
rules:
  - name: matched
    order: 10
    condition: event.kind == 'a'
    actions: [{{type: TAG, tag: seen}}]
  - name: not matched
    order: 20
    condition: event.kind == 'b'
    actions: [{{type: TAG, tag: never}}]
  - name: skipped error
    order: 30
    condition: event.missing > 1.0
    actions: [{{type: TAG, tag: never}}]
  - name: skipped timeout
    order: 40
    condition: "{HUNDRED}.all(a, {HUNDRED}.all(b, {HUNDRED}.all(c, event.kind != '')))"
    actions: [{{type: TAG, tag: never}}]
  - name: outside window
    order: 50
    active_to: 2020-01-01T00:00:00Z
    condition: 'true'
    actions: [{{type: TAG, tag: never}}]
  - name: budget exceeded
    order: 60
    condition: 'true'
    budgets: [{{asset_id: PTS, limit: '5'}}]
    actions: [{{type: CREDIT, asset_id: PTS, amount: 10}}]
  - name: stopper
    order: 70
    stop_after_match: true
    condition: 'true'
    actions: [{{type: TAG, tag: stopped_here}}]
  - name: stopped
    order: 80
    condition: 'true'
    actions: [{{type: TAG, tag: never}}]
"""


def _form(bundle=samples.BUNDLE, event=None, participant=samples.PARTICIPANT) -> RunForm:
    return RunForm(bundle=bundle, event=event or samples.event("coffee"), participant=participant)


def test_every_status_the_engine_has_comes_through(monkeypatch):
    # The cost budget, not the clock of a loaded machine, ends `skipped timeout` (and no time limit
    # of the event skips the rules after it).
    monkeypatch.setattr(dsl.limits, "TIME_MAX_S", 60.0)
    monkeypatch.setattr(engine.evaluator.evaluate, "EVALUATION_TIME_MAX_S", 60.0)
    run = dry_run(
        _form(
            bundle=EVERY_STATUS,
            event=json.dumps({"event_timestamp": "2026-05-04T10:00:00Z", "event_data": {"kind": "a"}}),
        )
    )
    # the loader's analysis sees that `stopper` ends every evaluation: a warning, the run goes on
    assert [(p.code, p.severity) for p in run.problems] == [("unreachable_rule", "warning")]
    assert {o.rule: str(o.status) for o in run.result.rules} == {
        "matched": "MATCHED",
        "not matched": "NOT_MATCHED",
        "skipped error": "SKIPPED_ERROR",
        "skipped timeout": "SKIPPED_TIMEOUT",
        "outside window": "OUTSIDE_TIME_WINDOW",
        "budget exceeded": "BUDGET_EXCEEDED",
        "stopper": "MATCHED",
        "stopped": "STOPPED",
    }


def test_each_rule_has_its_trace_and_the_state_before_is_kept():
    run = dry_run(_form())
    assert all(outcome.trace for outcome in run.result.rules)
    assert run.before.balances["POINTS"].available == 10
    assert run.result.participant.balances["POINTS"].available == 16


def test_crlf_from_browsers_counts_lines_like_lf():
    run = dry_run(_form(bundle=samples.BROKEN_BUNDLE.replace("\n", "\r\n")))
    assert [p.line for p in run.problems] == [samples.BROKEN_LINE]


def test_an_unknown_tier_in_the_state_is_a_participant_problem():
    run = dry_run(_form(participant="tiers: {status: gold}\n"))
    [problem] = run.problems
    assert (problem.pane, problem.code) == ("participant", "invalid_test_input")
    assert run.result is None


def test_oversized_event_data_is_an_event_problem():
    big = json.dumps({"event_timestamp": "2026-01-01T00:00:00Z", "event_data": {"blob": "x" * 300_000}})
    [problem] = dry_run(_form(event=big)).problems
    assert (problem.pane, problem.code) == ("event", "limit_event_data_bytes")


def test_the_same_bundle_text_is_loaded_once():
    assert load_cached(samples.BUNDLE) is load_cached(samples.BUNDLE)


def test_single_rule_detection_and_wrapping():
    assert is_single_rule(samples.SINGLE_RULE)
    assert not is_single_rule(samples.BUNDLE)
    assert not is_single_rule("tags: []\n")
    wrapped = wrap_single_rule(samples.SINGLE_RULE)
    assert wrapped.startswith("rules:\n- name: lone rule\n  condition: event.price > 2.0\n")
    assert "symbol: STAMPS" in wrapped


@settings(max_examples=60, deadline=None)
@given(bundle=st.text(max_size=300), event=st.text(max_size=120), participant=st.text(max_size=120))
def test_no_text_in_any_pane_makes_the_dry_run_raise(bundle, event, participant):
    run = dry_run(RunForm(bundle=bundle, event=event, participant=participant))
    assert run.result is not None or run.problems


@settings(max_examples=40, deadline=None)
@given(
    data=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
        lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
        max_leaves=12,
    )
)
def test_any_json_event_data_evaluates_or_is_reported(data):
    event = json.dumps({"event_timestamp": "2026-01-01T00:00:00Z", "event_data": {"item": data, "price": data}})
    run = dry_run(_form(event=event))
    assert run.result is not None
    assert {str(o.status) for o in run.result.rules} <= {"MATCHED", "NOT_MATCHED", "SKIPPED_ERROR"}


def test_a_hostile_rule_ends_skipped_timeout_within_the_bound():
    # The playground runs the evaluator the worker runs (D30), traced, with the same bounds.
    import time

    from engine.cli.bench.hostile import CASES, HOSTILE_EVENT

    bundle = (
        "program: {key: hostile, name: Hostile}\n"
        "rules:\n"
        "  - name: hostile\n"
        f"    condition: {json.dumps(CASES[0][1])}\n"
        "    actions: [{type: TAG, tag: never}]\n"
    )
    event = json.dumps({"event_timestamp": "2026-06-01T12:00:00Z", "event_data": HOSTILE_EVENT})
    started = time.perf_counter()
    run = dry_run(_form(bundle=bundle, event=event))
    elapsed = time.perf_counter() - started
    (outcome,) = run.result.rules
    assert str(outcome.status) == "SKIPPED_TIMEOUT" and outcome.error_code.startswith("DSL_LIMIT")
    assert len(outcome.trace) <= 2 * 2_000
    # reading a 190 KB event pane and compiling come on top of the evaluation's 100 ms at most
    assert elapsed < engine.evaluator.evaluate.EVALUATION_TIME_MAX_S + 1.0
