"""engine.rules.plan and the atomic apply (`POST /v1/programs/apply`, `accrual apply`): one planner
for the dry run and the apply, the same result through the HTTP API and on the database, a second
run up to date, removed rules archived, organisation assets linked, and all or nothing."""

from __future__ import annotations

import msgspec
import pytest
from click.testing import CliRunner

from api.apply_target import DatabaseTarget
from api.queries.apply import apply_bundle
from engine.cli import main
from engine.cli.apply import HttpApply, plan_from_answer
from engine.rules.loader import load_bundle_text
from engine.rules.plan import ApplyError, Plan, plan_bundle
from engine.store.db import database_proxy
from engine.store.models import Asset, Program, RuleRecord
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


class Server:
    """A running API (the Litestar test client) with a key: applies bundles and reads resources."""

    def __init__(self, test_client, key: str) -> None:
        self.test_client, self.key = test_client, key
        self.http = HttpApply("", "", client=self)

    def request(self, method, path, **kwargs):
        return self.test_client.request(method, path, headers={"X-API-Key": self.key}, **kwargs)

    def apply(self, text: str, *, dry_run: bool = False) -> dict:
        return self.http.apply(bundle_of(text), dry_run=dry_run)

    def plan(self, text: str) -> Plan:
        return plan_from_answer(self.apply(text, dry_run=True))

    def list(self, path: str, **params) -> list[dict]:
        response = self.request("GET", path, params={"limit": 200, **params})
        assert response.status_code == 200, response.text
        return response.json()["data"]


@pytest.fixture
def server(client):  # noqa: F811 - the fixture from tests/api/conftest.py
    from api.keys import create_key

    return Server(client, create_key("acme"))


def described(plan: Plan) -> list[str]:
    return [step.describe() for step in plan.steps]


def test_plan_apply_and_idempotence_over_http(server):
    assert described(server.plan(BUNDLE)) == [
        "create program shop",
        "create asset PTS",
        "create rule welcome (order 10)",
        "create rule purchase (order 20)",
    ]
    answer = server.apply(BUNDLE)
    assert answer["applied"] is True
    rules = server.list("/v1/rules", program_id=answer["program_id"])
    assert [(r["name"], r["order"]) for r in rules] == [("welcome", 10), ("purchase", 20)]
    assert server.list("/v1/programs")[0]["on_unknown_participant"] == "REJECT"
    again = server.apply(BUNDLE)
    assert again["steps"] == [] and again["applied"] is False and again["program_id"] == answer["program_id"]
    assert plan_from_answer(again).lines() == ["program shop: up to date"]


def test_changes_show_old_and_new_values_and_removed_rules_are_archived(server):
    program_id = server.apply(BUNDLE)["program_id"]
    changed = BUNDLE.replace('event.type == "signup"', 'event.type == "join"').replace("name: Points", "name: Stars")
    changed = changed[: changed.index("  - name: purchase")]
    plan = server.plan(changed)
    assert described(plan) == [
        "update asset PTS (name)",
        "archive rule purchase (status)",
        "update rule welcome (condition)",
    ]
    assert plan.lines() == [
        "program shop: 3 change(s)",
        "  update asset PTS (name)",
        '      name: "Points" -> "Stars"',
        "  archive rule purchase (status)",
        "  update rule welcome (condition)",
        '      condition: "event.type == \\"signup\\"" -> "event.type == \\"join\\""',
    ]
    server.apply(changed)
    rules = {r["name"]: r for r in server.list("/v1/rules", program_id=program_id)}
    assert set(rules) == {"welcome"} and rules["welcome"]["condition"] == 'event.type == "join"'
    assert rules["welcome"]["version"] == 2
    assert server.plan(changed).steps == []


def test_coloured_plan_marks_old_values_red_and_new_values_green(server):
    import click

    server.apply(BUNDLE)
    plan = server.plan(BUNDLE.replace("name: Points", "name: Stars"))
    lines = plan.lines(click.style)
    assert click.style('"Points"', fg="red") in lines[2] and click.style('"Stars"', fg="green") in lines[2]


def test_immutable_asset_change_is_reported_not_applied(server):
    server.apply(BUNDLE)
    plan = server.plan(BUNDLE.replace("scale: 0", "scale: 2"))
    assert plan.steps == [] and any("scale" in problem for problem in plan.problems)


def test_an_asset_of_another_program_is_linked_not_created_again(server):
    """The demo's `card_linked` owns PTS; a new bundle with asset PTS links it (the plan names the
    existing asset), where the planner used to plan a create that the server refused."""
    owner = server.apply(BUNDLE.replace("key: shop, name: Shop", "key: card_linked, name: Card linked"))
    [asset] = server.list("/v1/assets")
    plan = server.plan(BUNDLE)
    assert described(plan) == [
        "create program shop",
        f"link asset PTS [existing asset {asset['id']} of card_linked]",
        "create rule welcome (order 10)",
        "create rule purchase (order 20)",
    ]
    answer = server.apply(BUNDLE)
    [linked] = server.list("/v1/assets")
    assert linked["id"] == asset["id"] and set(linked["program_ids"]) == {owner["program_id"], answer["program_id"]}
    assert server.apply(BUNDLE)["steps"] == []


def test_a_refused_step_leaves_nothing_behind(server):
    """All or nothing: the program and asset created before the refused asset are rolled back, and
    a retry fails the same way without a half-made program."""
    broken = BUNDLE.replace(
        "  - {symbol: PTS, name: Points, scale: 0}\n",
        "  - {symbol: PTS, name: Points, scale: 0}\n"
        "  - {symbol: BAD, name: Bad, scale: 0, max_transaction_amount: '0'}\n",
    )
    for _ in range(2):
        with pytest.raises(ApplyError) as info:
            server.apply(broken)
        assert "create asset BAD" in info.value.message
    assert server.list("/v1/programs") == [] and server.list("/v1/assets") == []
    assert described(server.plan(broken))[:3] == ["create program shop", "create asset PTS", "create asset BAD"]


def test_a_bundle_that_does_not_type_check_is_refused_whole(server):
    """The server checks what it is sent (a client need not have run `accrual check`)."""
    bundle = bundle_of(BUNDLE)
    mistaken = msgspec.structs.replace(bundle.rules[1], condition='"vip" in participant.tag')
    with pytest.raises(ApplyError) as info:
        server.http.apply(msgspec.structs.replace(bundle, rules=[bundle.rules[0], mistaken]), dry_run=False)
    assert info.value.code == "invalid_bundle"
    assert info.value.details["problems"][0]["code"] == "DSL_UNKNOWN_FIELD"
    assert server.list("/v1/programs") == []


def test_database_target_matches_http(database):  # noqa: F811
    target = DatabaseTarget.for_organisation("acme")
    answer = apply_bundle(target.principal, bundle_of(BUNDLE), dry_run=False)
    assert [r["name"] for r in target.rules(answer.program_id)] == ["welcome", "purchase"]
    assert plan_bundle(bundle_of(BUNDLE), target).steps == []


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_example_applies_and_is_then_up_to_date(database, example):  # noqa: F811
    target = DatabaseTarget.for_organisation("examples")
    loaded = load_bundle_text((EXAMPLES / example).read_text(), example)
    assert loaded.ok
    apply_bundle(target.principal, loaded.bundle, dry_run=False)
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


def test_cli_apply_refuses_a_bundle_whose_tests_fail(database, database_url, tmp_path):  # noqa: F811
    path = tmp_path / "shop.yaml"
    path.write_text(
        BUNDLE
        + """tests:
  - name: signup earns 100
    event: {type: signup}
    expect: {credits: {PTS: 99}}
"""
    )

    def run(*args: str):
        result = CliRunner().invoke(main, ["apply", str(path), "--org", "acme", "--database-url", database_url, *args])
        database_proxy.initialize(database)
        return result

    refused = run()
    assert refused.exit_code == 1 and "tests fail; nothing was applied" in refused.output
    assert Program.select().count() == 0
    assert run("--no-test").exit_code == 0
    assert Program.select().count() == 1 and Asset.select().count() == 1 and RuleRecord.select().count() == 2


TIERED = (
    BUNDLE
    + """
tiers:
  - key: status
    display_name: Status
    lifecycle: {retention: {mode: ACTIVITY_REFRESH, duration: 8760h}}
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


def test_tier_types_are_created_before_rules_and_then_up_to_date(server):
    text = TIERED.replace(
        "actions: [{type: CREDIT, asset_id: PTS, amount: 100}]",
        "actions: [{type: SET_TIER, tier: status, level: silver}]",
    )
    plan = server.plan(text)
    assert described(plan)[:4] == [
        "create program shop",
        "create asset PTS",
        "create tier status",
        "create tier region",
    ]
    assert plan.problems == []
    program_id = server.apply(text)["program_id"]
    tiers = {t["key"]: t for t in server.list(f"/v1/programs/{program_id}/tiers")}
    assert tiers["status"]["lifecycle"] == {"retention": {"mode": "ACTIVITY_REFRESH", "duration": "8760h"}}
    assert [(lv["key"], lv["benefits"]) for lv in tiers["status"]["levels"]] == [
        ("bronze", {}),
        ("silver", {"bonus": 25}),
    ]
    assert server.plan(text).steps == []


def test_changed_tiers_are_patched_and_removed_ones_archived(server):
    server.apply(TIERED)
    changed = (
        TIERED.replace("display_name: Status", "display_name: Elite")
        .replace("    lifecycle: {retention: {mode: ACTIVITY_REFRESH, duration: 8760h}}\n", "")
        .replace(
            '        qualification: {criteria: [{counter: spend, operator: ">=", threshold: 100}]}\n',
            "      - {key: gold, rank: 2}\n",
        )
    )
    changed = changed[: changed.index("  - key: region")]
    plan = server.plan(changed)
    assert described(plan) == [
        "update tier status (display_name, levels, lifecycle)",
        "archive tier region (status)",
    ]
    assert '      display_name: "Status" -> "Elite"' in plan.lines()
    program_id = server.apply(changed)["program_id"]
    tiers = {t["key"]: t for t in server.list(f"/v1/programs/{program_id}/tiers")}
    assert tiers["region"]["status"] == "ARCHIVED"
    status = tiers["status"]
    assert (status["display_name"], status["lifecycle"]) == ("Elite", {})
    assert [(lv["key"], lv["qualification"]) for lv in status["levels"]] == [
        ("bronze", None),
        ("silver", {}),
        ("gold", None),
    ]
    assert server.plan(changed).steps == []


def test_archived_in_the_file_and_one_way_archive_and_removed_levels_are_reported(server):
    server.apply(TIERED)
    archived = TIERED.replace("  - key: region\n", "  - key: region\n    status: ARCHIVED\n")
    assert described(server.plan(archived)) == ["archive tier region (status)"]
    server.apply(archived)
    assert server.plan(archived).steps == []
    revived = server.plan(TIERED.replace("      - {key: bronze, rank: 0}\n", ""))
    assert revived.steps == [] and sorted(revived.problems) == [
        "tier region is archived on the server (archiving is one way)",
        "tier status: levels bronze are on the server and not in the file (levels cannot be removed)",
    ]


def test_database_target_applies_tiers_like_http(database):  # noqa: F811
    target = DatabaseTarget.for_organisation("acme")
    program_id = apply_bundle(target.principal, bundle_of(TIERED), dry_run=False).program_id
    assert program_id is not None
    assert [t["key"] for t in target.tiers(program_id)] == ["region", "status"]
    without_region = TIERED[: TIERED.index("  - key: region")].replace(
        "{key: bronze, rank: 0}", "{key: bronze, rank: 5}"
    )
    plan = plan_bundle(bundle_of(without_region), target)
    assert described(plan) == ["update tier status (levels)", "archive tier region (status)"]
    apply_bundle(target.principal, bundle_of(without_region), dry_run=False)
    assert plan_bundle(bundle_of(without_region), target).steps == []
    with pytest.raises(ApplyError) as info:
        target.send("POST", f"/v1/programs/{program_id}/tiers/region/archive", {})
    assert info.value.code == "tier_archived"


AUTOMATED = (
    BUNDLE
    + """
automations:
  - name: nudge
    event_name: nudge
    scope: participants
    trigger: {type: cron, cron_expression: "0 9 * * MON", timezone: Europe/London}
  - name: launch
    event_name: launch
    scope: participants
    trigger: {type: one_time, trigger_at: 2030-06-01T09:00:00+02:00}
  - name: birthday
    event_name: birthday
    scope: participants
    trigger: {type: participant_state, schedule_type: ATTRIBUTE_DATE, schedule_config: {attribute: birthday}}
"""
)


def test_automations_are_created_then_up_to_date_program_scope_ones_too(server):
    plan = server.plan(AUTOMATED)
    assert described(plan)[-3:] == ["create automation nudge", "create automation launch", "create automation birthday"]
    assert plan.problems == []
    program_wide = AUTOMATED.replace(
        "scope: participants\n    trigger: {type: one_time", "scope: program\n    trigger: {type: one_time"
    )
    assert server.plan(program_wide).problems == []
    applied = server.apply(program_wide)["program_id"]
    scopes = {a["name"]: a["scope"] for a in server.list(f"/v1/programs/{applied}/automations")}
    assert scopes["launch"] == "program"
    assert server.plan(program_wide).steps == []
    program_id = server.apply(AUTOMATED)["program_id"]
    stored = server.list(f"/v1/programs/{program_id}/automations")
    assert {a["name"]: a["next_run_at"] for a in stored}["launch"] == "2030-06-01T07:00:00Z"
    assert server.plan(AUTOMATED).steps == []  # the same time in another offset is no change


def test_changed_automations_are_patched_re_created_or_archived(server):
    program_id = server.apply(AUTOMATED)["program_id"]
    changed = AUTOMATED.replace('"0 9 * * MON", timezone: Europe/London', '"0 10 * * MON"')
    changed = changed.replace("{type: one_time, trigger_at: 2030-06-01T09:00:00+02:00}", "{type: immediate}")
    changed = changed[: changed.index("  - name: birthday")]
    plan = server.plan(changed)
    assert described(plan) == [
        "archive automation birthday (status)",
        "update automation nudge (trigger)",
        "archive automation launch (status) [its trigger type, scope or participant changed]",
        "create automation launch",
    ]
    assert [(c.old["cron_expression"], c.new["cron_expression"]) for c in plan.steps[1].changes] == [
        ("0 9 * * MON", "0 10 * * MON")
    ]
    server.apply(changed)
    live = [a for a in server.list(f"/v1/programs/{program_id}/automations") if a["status"] != "archived"]
    assert sorted((a["name"], a["trigger_type"], a["timezone"]) for a in live) == [
        ("launch", "immediate", None),
        ("nudge", "cron", None),
    ]
    assert server.plan(changed).steps == []
    gone = server.plan(BUNDLE)
    assert described(gone) == ["archive automation launch (status)", "archive automation nudge (status)"]


def test_an_automation_that_does_not_check_refuses_the_bundle_whole(server):
    broken = AUTOMATED.replace("0 9 * * MON", "0 9 * *")
    response = server.request("POST", "/v1/programs/apply", json=msgspec.to_builtins(bundle_of(AUTOMATED)) | {
        "automations": [{"name": "x", "event_name": "x", "scope": "program", "trigger": {"type": "immediate"}}]
    })  # fmt: skip
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_bundle"
    assert response.json()["details"]["problems"][0] == {
        "field": "automations.0.scope",
        "message": "an immediate trigger fires for scope participants, not program",
        "code": "invalid_scope",
    }
    assert not load_bundle_text(broken).ok
