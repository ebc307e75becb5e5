"""Every example program is valid, warning-free, tested, and its results (with traces) are pinned."""

import json

import msgspec
import pytest

from engine.evaluator.automation_cases import run_automation_tests
from engine.evaluator.cases import run_test_cases
from engine.model.bundle import bundle_json_schema
from engine.rules.loader import load_bundle
from tests.conftest import ROOT

EXAMPLES = ROOT / "rules_examples"
FILES = sorted(EXAMPLES.glob("*.yaml"))


def test_there_are_at_least_six_examples():
    assert len(FILES) >= 6


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_example_checks_clean_and_passes_its_tests(path):
    loaded = load_bundle(path)
    assert loaded.problems == [], [problem.format() for problem in loaded.problems]
    results = run_test_cases(loaded)
    assert len(results) >= 3
    failures = {result.name: result.diff for result in results if not result.passed}
    assert failures == {}
    assert any(
        result.result.status == "FAILED" or not any(r.status == "MATCHED" for r in result.result.rules)
        for result in results
    ), "each example tests at least one event that matches nothing or fails"
    automation_failures = {result.name: result.diff for result in run_automation_tests(loaded) if not result.passed}
    assert automation_failures == {}


def test_examples_share_a_symbol_only_for_the_same_asset():
    """`accrual up` applies every example into one organisation, where assets are matched by symbol
    across programs: two examples declaring one symbol must declare the same asset."""
    declared: dict[str, tuple[str, dict]] = {}
    for path in FILES:
        for asset in load_bundle(path).bundle.assets:
            fields = msgspec.to_builtins(asset)
            first = declared.setdefault(asset.symbol, (path.stem, fields))
            assert first[1] == fields, f"{asset.symbol} in {first[0]} and {path.stem} differ"


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_example_results_with_traces(path, snapshot_json):
    results = run_test_cases(load_bundle(path))
    pinned = {result.name: msgspec.to_builtins(result.result) for result in results}
    assert snapshot_json == json.loads(json.dumps(pinned, sort_keys=True))


def test_examples_point_editors_at_the_current_schema():
    schema_file = EXAMPLES / "bundle.schema.json"
    assert json.loads(schema_file.read_text(encoding="utf-8")) == bundle_json_schema(), (
        "refresh it with: accrual schema > rules_examples/bundle.schema.json"
    )
    for path in FILES:
        assert path.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=bundle.schema.json\n"), (
            path.name
        )
