"""engine.rules.plan: plan and apply a bundle through the HTTP API (test client) and on the database,
with the same result; a second run is up to date; removed rules are archived."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from api.apply_target import DatabaseTarget
from engine.cli import main
from engine.cli.apply import HttpTarget
from engine.rules.loader import load_bundle_text
from engine.rules.plan import ApplyError, apply_plan, plan_bundle
from engine.store.db import database_proxy
from tests.api.conftest import Api, client, database, database_url, settings  # noqa: F401 - fixtures
from tests.conftest import ROOT

EXAMPLES = ROOT / "rules_examples"

BUNDLE = """
program: {key: shop, name: Shop, on_unknown_participant: REJECT}
assets:
  - {symbol: PTS, name: Points, scale: 0}
rules:
  - name: welcome
    condition: event.type == "signup"
    actions: [{type: CREDIT, asset_id: PTS, amount: 100}]
  - name: purchase
    condition: event.type == "purchase"
    actions: [{type: CREDIT, asset_id: PTS, amount: "event.amount * 10.0"}]
    budgets: [{asset_id: PTS, limit: "1000.0"}]
"""


def bundle_of(text: str):
    loaded = load_bundle_text(text)
    assert loaded.ok, loaded.problems
    return loaded.bundle


@pytest.fixture
def http_target(client):  # noqa: F811 - the fixture from tests/api/conftest.py
    from api.keys import create_key

    return HttpTarget("", "", client=_Authorised(client, create_key("acme")))


class _Authorised:
    """The Litestar test client with a key, shaped like the httpx client HttpTarget uses."""

    def __init__(self, test_client, key: str) -> None:
        self.test_client, self.key = test_client, key

    def request(self, method, path, **kwargs):
        return self.test_client.request(method, path, headers={"X-API-Key": self.key}, **kwargs)


def test_plan_apply_and_idempotence_over_http(http_target):
    bundle = bundle_of(BUNDLE)
    plan = plan_bundle(bundle, http_target)
    assert [s.describe() for s in plan.steps] == [
        "create program shop",
        "create asset PTS",
        "create rule welcome (order 10)",
        "create rule purchase (order 20)",
    ]
    program_id = apply_plan(plan, http_target)
    rules = http_target.rules(program_id)
    assert [(r["name"], r["order"]) for r in rules] == [("welcome", 10), ("purchase", 20)]
    assert http_target.programs()[0]["on_unknown_participant"] == "REJECT"
    again = plan_bundle(bundle, http_target)
    assert again.steps == [] and again.lines() == ["program shop: up to date"]


def test_changes_update_and_removed_rules_are_archived(http_target):
    apply_plan(plan_bundle(bundle_of(BUNDLE), http_target), http_target)
    changed = BUNDLE.replace('event.type == "signup"', 'event.type == "join"').replace("name: Points", "name: Stars")
    changed = changed[: changed.index("  - name: purchase")]
    plan = plan_bundle(bundle_of(changed), http_target)
    assert [s.describe() for s in plan.steps] == [
        "update asset PTS (name)",
        "archive rule purchase (status)",
        "update rule welcome (condition)",
    ]
    program_id = apply_plan(plan, http_target)
    rules = {r["name"]: r for r in http_target.rules(program_id)}
    assert set(rules) == {"welcome"} and rules["welcome"]["condition"] == 'event.type == "join"'
    assert rules["welcome"]["version"] == 2
    assert plan_bundle(bundle_of(changed), http_target).steps == []


def test_immutable_asset_change_and_refused_step_are_reported(http_target):
    apply_plan(plan_bundle(bundle_of(BUNDLE), http_target), http_target)
    plan = plan_bundle(bundle_of(BUNDLE.replace("scale: 0", "scale: 2")), http_target)
    assert any("scale" in problem for problem in plan.problems)
    with pytest.raises(ApplyError) as info:
        http_target.send(
            "POST",
            "/v1/rules",
            {"program_id": "missing", "name": "x", "condition": "true", "actions": [{"type": "TAG", "tag": "x"}]},
        )
    assert info.value.code == "not_found"


def test_database_target_matches_http(database):  # noqa: F811
    target = DatabaseTarget("acme")
    program_id = apply_plan(plan_bundle(bundle_of(BUNDLE), target), target)
    assert [r["name"] for r in target.rules(program_id)] == ["welcome", "purchase"]
    assert plan_bundle(bundle_of(BUNDLE), target).steps == []


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_example_applies_and_is_then_up_to_date(database, example):  # noqa: F811
    target = DatabaseTarget("examples")
    loaded = load_bundle_text((EXAMPLES / example).read_text(), example)
    assert loaded.ok
    plan = plan_bundle(loaded.bundle, target)
    apply_plan(plan, target)
    assert plan_bundle(loaded.bundle, target).steps == []


def test_cli_apply_dry_run_then_apply(database, database_url, tmp_path):  # noqa: F811
    path = tmp_path / "shop.yaml"
    path.write_text(BUNDLE)

    def run(*args: str):
        result = CliRunner().invoke(main, ["apply", str(path), *args])
        database_proxy.initialize(database)  # the command bound (and closed) its own database
        return result

    dry = run("--org", "acme", "--database-url", database_url, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "create rule purchase (order 20)" in dry.output and "applied" not in dry.output
    done = run("--org", "acme", "--database-url", database_url)
    assert done.exit_code == 0 and "applied: program shop" in done.output
    again = run("--org", "acme", "--database-url", database_url)
    assert "up to date" in again.output
    both = run("--org", "acme", "--server", "http://x")
    assert both.exit_code == 2
    path.write_text("program: {key: Bad Key}\n")
    invalid = run("--org", "acme", "--database-url", database_url)
    assert invalid.exit_code == 1


TIERED = (
    BUNDLE
    + """
tiers:
  - key: status
    display_name: Status
    lifecycle: {downgrade_policy: {mode: HOLD}}
    levels:
      - {key: bronze, rank: 0}
      - key: silver
        rank: 1
        benefits: {bonus: 25}
        qualification: {criteria: [{counter: spend, operator: ">=", threshold: 100}]}
  - key: region
    levels: [{key: eu, rank: 0}]
"""
)


def test_tier_types_are_created_before_rules_and_then_up_to_date(http_target):
    text = TIERED.replace(
        "actions: [{type: CREDIT, asset_id: PTS, amount: 100}]",
        "actions: [{type: SET_TIER, tier: status, level: silver}]",
    )
    plan = plan_bundle(bundle_of(text), http_target)
    assert [s.describe() for s in plan.steps][:4] == [
        "create program shop",
        "create asset PTS",
        "create tier status",
        "create tier region",
    ]
    assert plan.problems == []
    program_id = apply_plan(plan, http_target)
    tiers = {t["key"]: t for t in http_target.tiers(program_id)}
    assert tiers["status"]["lifecycle"] == {"downgrade_policy": {"mode": "HOLD"}}
    assert [(lv["key"], lv["benefits"]) for lv in tiers["status"]["levels"]] == [
        ("bronze", {}),
        ("silver", {"bonus": 25}),
    ]
    assert plan_bundle(bundle_of(text), http_target).steps == []


def test_changed_tiers_are_patched_and_removed_ones_archived(http_target):
    apply_plan(plan_bundle(bundle_of(TIERED), http_target), http_target)
    changed = (
        TIERED.replace("display_name: Status", "display_name: Elite")
        .replace("    lifecycle: {downgrade_policy: {mode: HOLD}}\n", "")
        .replace(
            '        qualification: {criteria: [{counter: spend, operator: ">=", threshold: 100}]}\n',
            "      - {key: gold, rank: 2}\n",
        )
    )
    changed = changed[: changed.index("  - key: region")]
    plan = plan_bundle(bundle_of(changed), http_target)
    assert [s.describe() for s in plan.steps] == [
        "update tier status (display_name, levels, lifecycle)",
        "archive tier region (status)",
    ]
    program_id = apply_plan(plan, http_target)
    tiers = {t["key"]: t for t in http_target.tiers(program_id)}
    assert tiers["region"]["status"] == "ARCHIVED"
    status = tiers["status"]
    assert (status["display_name"], status["lifecycle"]) == ("Elite", {})
    assert [(lv["key"], lv["qualification"]) for lv in status["levels"]] == [
        ("bronze", None),
        ("silver", {}),
        ("gold", None),
    ]
    assert plan_bundle(bundle_of(changed), http_target).steps == []


def test_archived_in_the_file_and_one_way_archive_and_removed_levels_are_reported(http_target):
    apply_plan(plan_bundle(bundle_of(TIERED), http_target), http_target)
    archived = TIERED.replace("  - key: region\n", "  - key: region\n    status: ARCHIVED\n")
    plan = plan_bundle(bundle_of(archived), http_target)
    assert [s.describe() for s in plan.steps] == ["archive tier region (status)"]
    apply_plan(plan, http_target)
    assert plan_bundle(bundle_of(archived), http_target).steps == []
    revived = plan_bundle(bundle_of(TIERED.replace("      - {key: bronze, rank: 0}\n", "")), http_target)
    assert revived.steps == [] and sorted(revived.problems) == [
        "tier region is archived on the server (archiving is one way)",
        "tier status: levels bronze are on the server and not in the file (levels cannot be removed)",
    ]


def test_database_target_applies_tiers_like_http(database):  # noqa: F811
    target = DatabaseTarget("acme")
    program_id = apply_plan(plan_bundle(bundle_of(TIERED), target), target)
    assert [t["key"] for t in target.tiers(program_id)] == ["region", "status"]
    without_region = TIERED[: TIERED.index("  - key: region")].replace(
        "{key: bronze, rank: 0}", "{key: bronze, rank: 5}"
    )
    plan = plan_bundle(bundle_of(without_region), target)
    assert [s.describe() for s in plan.steps] == ["update tier status (levels)", "archive tier region (status)"]
    apply_plan(plan, target)
    assert plan_bundle(bundle_of(without_region), target).steps == []
    with pytest.raises(ApplyError) as info:
        target.send("POST", f"/v1/programs/{program_id}/tiers/region/archive", {})
    assert info.value.code == "tier_archived"
