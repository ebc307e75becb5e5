from engine.cli.report import check_files, problem_lines, run_test_files
from engine.rules.loader import load_bundle_text


def test_problem_lines_show_the_source_line_and_a_caret_that_keeps_tabs():
    loaded = load_bundle_text("program: {key: demo, name: Demo}\nrules:\n\t- x\n", filename="t.yaml")
    lines = problem_lines(loaded)
    assert lines[0].startswith("t.yaml:3:1: error yaml_syntax: ")
    assert lines[1:] == ["    \t- x", "    ^"]


def test_problem_lines_can_leave_out_warnings():
    loaded = load_bundle_text("program: {key: demo, name: Demo}\nassets: [{symbol: P, name: P, scale: 0}]\n")
    assert problem_lines(loaded)[0].endswith("warning unused_asset: no rule uses asset 'P'")
    assert problem_lines(loaded, warnings=False) == []


def test_check_files_counts_and_styles(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("program: {key: demo, name: Demo}\n", encoding="utf-8")
    calls = []

    def style(text, **styles):
        calls.append(styles)
        return f"<{text}>"

    report = check_files([str(good), str(good)], style=style)
    assert report.exit_code == 0
    assert report.lines == ["<checked 2 files: 0 errors, 0 warnings>"]
    assert calls == [{"fg": "green", "bold": True}]


def test_run_test_files_runs_automation_tests_and_points_at_a_failing_one(tmp_path):
    bundle = tmp_path / "b.yaml"
    bundle.write_text(
        "program: {key: demo, name: Demo}\n"
        "automations:\n"
        "  - {name: tick, event_name: tick, scope: program, trigger: {type: cron, cron_expression: '0 * * * *'}}\n"
        "automation_tests:\n"
        "  - {name: on the hour, automation: tick, at: 2026-01-01T10:00:00Z, expect: {fires: [2026-01-01T10:00:00Z]}}\n"
        "  - name: not at half past\n"
        "    automation: tick\n"
        "    at: 2026-01-01T10:30:00Z\n"
        "    expect: {fires: [2026-01-01T10:30:00Z]}\n",
        encoding="utf-8",
    )
    report = run_test_files([str(bundle)])
    assert report.exit_code == 1
    assert report.lines == [
        f"FAIL {bundle}:6: not at half past",
        "    fires: expected [2026-01-01T10:30:00Z], got []",
        "1 test passed, 1 failed",
    ]
