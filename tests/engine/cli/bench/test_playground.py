from click.testing import CliRunner

from engine.cli import main
from engine.cli.bench.playground import Report, Timing, bundle_text, edit_one_rule, measure, panes, render
from engine.rules.loader import load_bundle_text


def test_generated_bundle_loads_with_the_requested_rule_count():
    loaded = load_bundle_text(bundle_text(12), "bench.yaml")
    assert loaded.ok and len(loaded.bundle.rules) == 12


def test_panes_are_what_the_page_posts():
    form = panes(3)
    assert set(form) == {"bundle", "event", "participant"}
    assert '"event_timestamp"' in form["event"]


def test_timing_median_and_p95():
    timing = Timing.of([0.001 * n for n in range(1, 101)])
    assert timing.median_ms == 50.5
    assert round(timing.p95_ms, 6) == 95.0


def test_an_edit_changes_one_condition_and_keeps_the_bundle_valid():
    text = bundle_text(5)
    first, second = edit_one_rule(text, 1), edit_one_rule(text, 2)
    changed = [(a, b) for a, b in zip(text.splitlines(), first.splitlines(), strict=True) if a != b]
    assert len(changed) == 1 and changed[0][0].lstrip().startswith("condition:")
    assert first != second
    loaded, original = load_bundle_text(first), load_bundle_text(text)
    assert loaded.ok
    sources = {rule.name: rule.condition.source for rule in loaded.program.rules}
    before = {rule.name: rule.condition.source for rule in original.program.rules}
    assert [name for name in sources if sources[name] != before[name]] == ["vip_bonus"]
    assert sources["vip_bonus"] == before["vip_bonus"] + " && 1 >= 0"  # the quoted scalar stays quoted


def test_measure_times_all_four_paths_through_the_app():
    report = measure(rules=5, runs=5)
    assert (report.rules, report.runs) == (5, 5)
    for timing in (report.warm, report.edited, report.cold, report.bare):
        assert 0 < timing.median_ms <= timing.p95_ms
    assert report.compiled_per_edit == 1.0  # only the edited condition is compiled again


def test_render_states_the_target_verdict_of_both_dry_runs():
    fast, slow = Timing(median_ms=3.0, p95_ms=4.0), Timing(median_ms=60.0, p95_ms=70.0)
    lines = render(Report(rules=100, runs=10, warm=fast, edited=fast, cold=slow, bare=fast, compiled_per_edit=1.0))
    assert lines[-2].endswith("bundle unchanged under 50 ms (median)")
    assert lines[-1].endswith("one rule edited under 50 ms (median)")
    assert "expressions compiled per edited run: 1.00" in lines
    lines = render(Report(rules=100, runs=10, warm=fast, edited=slow, cold=slow, bare=fast, compiled_per_edit=1.0))
    assert "under" in lines[-2] and "OVER" in lines[-1]


def test_cli_command_prints_the_table():
    result = CliRunner().invoke(main, ["bench", "playground", "--rules", "3", "--runs", "5"])
    assert result.exit_code == 0, result.output
    assert "evaluate_event(trace=True) alone" in result.output
