from click.testing import CliRunner

from engine.bench.playground import Report, Timing, bundle_text, measure, panes, render
from engine.cli import main
from engine.loader import load_bundle_text


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


def test_measure_times_all_three_paths_through_the_app():
    report = measure(rules=5, runs=5)
    assert (report.rules, report.runs) == (5, 5)
    for timing in (report.warm, report.cold, report.bare):
        assert 0 < timing.median_ms <= timing.p95_ms


def test_render_states_the_target_verdict():
    fast = Timing(median_ms=3.0, p95_ms=4.0)
    lines = render(Report(rules=100, runs=10, warm=fast, cold=Timing(median_ms=120.0, p95_ms=200.0), bare=fast))
    assert lines[-1].endswith("under 50 ms (median)")
    slow = Report(rules=100, runs=10, warm=Timing(median_ms=60.0, p95_ms=70.0), cold=fast, bare=fast)
    assert "OVER" in render(slow)[-1]


def test_cli_command_prints_the_table():
    result = CliRunner().invoke(main, ["bench", "playground", "--rules", "3", "--runs", "5"])
    assert result.exit_code == 0, result.output
    assert "evaluate_event(trace=True) alone" in result.output
