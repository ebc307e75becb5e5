import json

from click.testing import CliRunner

from engine.cli import main
from engine.model.bundle import bundle_json_schema

GOOD = """program: {key: demo, name: Demo}
assets:
  - {symbol: PTS, name: Points, scale: 0}
rules:
  - name: earn
    condition: event.type == "purchase"
    actions: [{type: CREDIT, asset_id: PTS, amount: 10}]
tests:
  - name: purchase earns ten
    event: {type: purchase}
    expect: {credits: {PTS: 10}}
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_schema_prints_the_json_schema():
    result = invoke("schema")
    assert result.exit_code == 0
    assert json.loads(result.output) == bundle_json_schema()


def test_check_passes_a_good_file(tmp_path):
    result = invoke("check", write(tmp_path, "good.yaml", GOOD))
    assert result.exit_code == 0
    assert result.output == "checked 1 file: 0 errors, 0 warnings\n"


def test_check_lists_every_problem_with_its_place_and_fails(tmp_path, snapshot):
    bad = write(
        tmp_path, "bad.yaml", GOOD.replace("event.type", "evnt.type").replace("scale: 0}", "scale: 0, colour: red}")
    )
    result = invoke("check", bad, write(tmp_path, "good.yaml", GOOD))
    assert result.exit_code == 1
    assert result.output.replace(str(tmp_path), "<tmp>") == snapshot


def test_warnings_pass_unless_strict(tmp_path):
    path = write(
        tmp_path, "warn.yaml", GOOD.replace("assets:\n", "assets:\n  - {symbol: GEMS, name: Gems, scale: 0}\n")
    )
    relaxed = invoke("check", path)
    assert relaxed.exit_code == 0 and "warning unused_asset" in relaxed.output
    strict = invoke("check", "--strict", path)
    assert strict.exit_code == 1
    assert strict.output.splitlines()[-1] == "checked 1 file: 0 errors, 1 warning (--strict: warnings fail the check)"


def test_check_reports_a_missing_file(tmp_path):
    result = invoke("check", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1
    assert "error file_unreadable: cannot read the file: No such file or directory" in result.output


def test_test_command_passes_and_lists_with_verbose(tmp_path):
    path = write(tmp_path, "good.yaml", GOOD)
    result = invoke("test", "-v", path)
    assert result.exit_code == 0
    assert result.output == f"PASS {path}: purchase earns ten\n1 test passed, 0 failed\n"


def test_test_command_prints_a_diff_and_fails(tmp_path, snapshot):
    path = write(tmp_path, "fail.yaml", GOOD.replace("credits: {PTS: 10}", "credits: {PTS: 12}, tags: [buyer]"))
    result = invoke("test", path)
    assert result.exit_code == 1
    assert result.output.replace(str(tmp_path), "<tmp>") == snapshot


def test_test_command_fails_on_a_file_that_does_not_load(tmp_path):
    result = invoke("test", write(tmp_path, "broken.yaml", GOOD.replace('"purchase"', '"purchase" &&')))
    assert result.exit_code == 1
    assert "error DSL_SYNTAX" in result.output
    assert result.output.splitlines()[-1] == "0 tests passed, 0 failed, 1 file with errors"


def test_a_file_without_test_cases_is_said_so(tmp_path):
    path = write(tmp_path, "untested.yaml", GOOD.split("tests:")[0])
    result = invoke("test", path)
    assert result.exit_code == 0
    assert f"{path}: no test cases" in result.output
