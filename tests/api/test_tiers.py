"""`/v1/programs/{program_id}/tiers`: tier types through the API, and what archiving does to events."""

from __future__ import annotations

import pytest

from engine.store.db import database_proxy
from engine.store.models import Program
from tests.api.conftest import create_program
from tests.conftest import ROOT

SILVER = {
    "key": "silver",
    "rank": 1,
    "display_name": "Silver",
    "qualification": {"criteria": [{"counter": "spend", "operator": ">=", "threshold": 100}]},
}
TIER = {"key": "status", "display_name": "Status", "levels": [{"key": "bronze", "rank": 0}, SILVER]}


@pytest.fixture
def program(api) -> str:
    return create_program(api, "Air")["id"]


def rules_version(program_id: str) -> int:
    with database_proxy.connection_context():
        return Program.get_by_id(program_id).rules_version


def test_create_get_and_list(api, program):
    before = rules_version(program)
    created = api.post(f"/v1/programs/{program}/tiers", TIER)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["key"], body["program_id"], body["status"], body["lifecycle"]) == ("status", program, "ACTIVE", {})
    assert "archived_at" not in body
    assert [(level["key"], level["rank"]) for level in body["levels"]] == [("bronze", 0), ("silver", 1)]
    assert body["levels"][1]["qualification"]["criteria"][0]["threshold"] == 100
    assert rules_version(program) > before
    assert api.get(f"/v1/programs/{program}/tiers/status").json() == body
    api.post(f"/v1/programs/{program}/tiers", {"key": "region", "levels": [{"key": "eu", "rank": 0}]})
    first = api.get(f"/v1/programs/{program}/tiers", limit=1).json()
    assert [t["key"] for t in first["data"]] == ["region"] and first["pagination"]["has_more"] is True
    rest = api.get(f"/v1/programs/{program}/tiers", limit=1, cursor=first["pagination"]["next_cursor"]).json()
    assert [t["key"] for t in rest["data"]] == ["status"] and rest["pagination"]["has_more"] is False


@pytest.mark.parametrize(
    "body, field",
    [
        ({**TIER, "key": "Status"}, "key"),
        ({**TIER, "levels": []}, "levels"),
        ({**TIER, "levels": [{"key": "x", "rank": -1}]}, "rank"),
        ({**TIER, "color": "#fff"}, "color"),
        ({"levels": TIER["levels"]}, "key"),
    ],
)
def test_invalid_bodies_are_400(api, program, body, field):
    response = api.post(f"/v1/programs/{program}/tiers", body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "bad_request" and field in response.text


def test_conflicts(api, program):
    assert api.post(f"/v1/programs/{program}/tiers", TIER).status_code == 201
    again = api.post(f"/v1/programs/{program}/tiers", TIER)
    assert (again.status_code, again.json()["code"]) == (409, "tier_exists")
    same_rank = {"key": "other", "levels": [{"key": "a", "rank": 1}, {"key": "b", "rank": 1}]}
    response = api.post(f"/v1/programs/{program}/tiers", same_rank)
    assert (response.status_code, response.json()["code"]) == (409, "tier_level_conflict")
    clash = api.patch(f"/v1/programs/{program}/tiers/status", {"levels": [{"key": "gold", "rank": 1}]})
    assert (clash.status_code, clash.json()["code"]) == (409, "tier_level_conflict")
    no_rank = api.patch(f"/v1/programs/{program}/tiers/status", {"levels": [{"key": "gold"}]})
    assert (no_rank.status_code, no_rank.json()["code"]) == (400, "bad_request")
    assert api.get(f"/v1/programs/{program}/tiers/status").json()["levels"][-1]["key"] == "silver"


HOLD_YEARLY = {
    "retention": {"mode": "PERIOD_BASED"},
    "qualification_period": {"type": "CALENDAR_YEAR"},
    "downgrade_policy": {"mode": "HOLD"},
}


def test_patch_upserts_levels_and_clears_lifecycle(api, program):
    api.post(f"/v1/programs/{program}/tiers", {**TIER, "lifecycle": HOLD_YEARLY})
    before = rules_version(program)
    patched = api.patch(
        f"/v1/programs/{program}/tiers/status",
        {"display_name": "Elite", "levels": [{"key": "silver", "qualification": {}}, {"key": "gold", "rank": 2}]},
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["display_name"] == "Elite" and body["lifecycle"] == HOLD_YEARLY
    silver = body["levels"][1]
    assert (silver["key"], silver["display_name"], silver["qualification"]) == ("silver", "Silver", {})
    assert [(level["key"], level["rank"]) for level in body["levels"]] == [("bronze", 0), ("silver", 1), ("gold", 2)]
    assert rules_version(program) > before
    cleared = api.patch(f"/v1/programs/{program}/tiers/status", {"lifecycle": {}, "display_name": None})
    assert cleared.json()["lifecycle"] == {} and cleared.json()["display_name"] == "Elite"
    assert api.patch(f"/v1/programs/{program}/tiers/status", {}).status_code == 400
    assert api.patch(f"/v1/programs/{program}/tiers/status", {"key": "renamed"}).status_code == 400


def test_archive_is_one_way(api, program):
    api.post(f"/v1/programs/{program}/tiers", TIER)
    archived = api.post(f"/v1/programs/{program}/tiers/status/archive")
    assert archived.status_code == 200, archived.text
    assert archived.json()["status"] == "ARCHIVED" and archived.json()["archived_at"]
    assert api.get(f"/v1/programs/{program}/tiers/status").json()["status"] == "ARCHIVED"
    again = api.post(f"/v1/programs/{program}/tiers/status/archive")
    assert (again.status_code, again.json()["code"]) == (409, "tier_archived")
    patched = api.patch(f"/v1/programs/{program}/tiers/status", {"display_name": "x"})
    assert (patched.status_code, patched.json()["code"]) == (409, "tier_archived")
    assert api.post(f"/v1/programs/{program}/tiers/nope/archive").status_code == 404
    assert [t["key"] for t in api.get(f"/v1/programs/{program}/tiers", status="ACTIVE").json()["data"]] == []
    assert [t["key"] for t in api.get(f"/v1/programs/{program}/tiers", status="ARCHIVED").json()["data"]] == ["status"]


def test_organisations_do_not_see_each_others_tiers(api, other_api, program):
    api.post(f"/v1/programs/{program}/tiers", TIER)
    base = f"/v1/programs/{program}/tiers"
    assert other_api.get(base).status_code == 404
    assert other_api.get(f"{base}/status").status_code == 404
    assert other_api.post(base, {**TIER, "key": "mine"}).status_code == 404
    assert other_api.patch(f"{base}/status", {"display_name": "x"}).status_code == 404
    assert other_api.post(f"{base}/status/archive").status_code == 404
    assert api.get(f"{base}/status").json()["status"] == "ACTIVE"
    assert api.get("/v1/programs/not-a-program/tiers").status_code == 404


def flight(program: str, who: str, **data) -> dict:
    import uuid

    return {
        "program_id": program,
        "external_id": who,
        "idempotency_key": uuid.uuid4().hex,
        "event_timestamp": "2026-01-01T12:00:00Z",
        "event_data": data,
    }


def test_events_after_archiving_skip_set_tier_and_stop_qualifying(immediate_api):
    api = immediate_api
    program = create_program(api, "Air")["id"]
    api.post(f"/v1/programs/{program}/tiers", {**TIER, "levels": [*TIER["levels"], {"key": "gold", "rank": 2}]})
    rules = [
        {
            "name": "spend",
            "condition": "true",
            "order": 10,
            "actions": [{"type": "COUNTER", "key": "spend", "value": "event.amount"}],
        },
        {
            "name": "vip",
            "condition": "event.vip",
            "order": 20,
            "actions": [{"type": "SET_TIER", "tier": "status", "level": "gold"}, {"type": "TAG", "tag": "vip"}],
        },
    ]
    for rule in rules:
        assert api.post("/v1/rules", {"program_id": program, **rule}).status_code == 201
    first = api.post("/v1/events", flight(program, "ann", amount=150.0, vip=False)).json()
    person = api.get(f"/v1/events/{first['id']}").json()["participant_id"]
    tiers = f"/v1/participants/{person}/state/tiers/status"
    assert api.get(tiers, program_id=program).json()["level"] == "silver"  # qualified automatically

    assert api.post(f"/v1/programs/{program}/tiers/status/archive").status_code == 200
    vip = api.post("/v1/events", flight(program, "ann", amount=10.0, vip=True)).json()
    body = api.get(f"/v1/events/{vip['id']}").json()
    assert body["status"] == "COMPLETED", body
    vip_rule = next(e for e in body["rule_evaluations"] if e["rule_name"] == "vip")
    assert [(a["type"], a.get("status", "APPLIED")) for a in vip_rule["actions"]] == [
        ("SET_TIER", "SKIPPED"),
        ("TAG", "APPLIED"),
    ]
    assert api.get(tiers, program_id=program).json()["level"] == "silver"  # kept, SET_TIER skipped
    assert "vip" in [t["tag"] for t in api.get(f"/v1/participants/{person}/state/tags").json()["data"]]
    other = api.post("/v1/events", flight(program, "bob", amount=500.0, vip=False)).json()
    bob = api.get(f"/v1/events/{other['id']}").json()
    assert bob["status"] == "COMPLETED"
    assert (
        api.get(f"/v1/participants/{bob['participant_id']}/state/tiers/status", program_id=program).status_code == 404
    )


def test_applied_airline_example_moves_a_flyer_to_silver(immediate_api):
    """`accrual apply` of rules_examples/airline_miles.yaml brings its tiers to the server, so
    qualifying miles earned through events move the participant up."""

    from engine.cli.apply import HttpApply, plan_from_answer
    from engine.rules.loader import load_bundle_text

    class Authorised:
        def request(self, method, path, **kwargs):
            return immediate_api.client.request(method, path, headers=immediate_api.headers, **kwargs)

    example = ROOT / "rules_examples" / "airline_miles.yaml"
    loaded = load_bundle_text(example.read_text(), example.name)
    target = HttpApply("", "", client=Authorised())
    plan = plan_from_answer(target.apply(loaded.bundle, dry_run=True))
    assert plan.problems == [] and "create tier status" in [s.describe() for s in plan.steps]
    program = target.apply(loaded.bundle, dry_run=False)["program_id"]

    def fly(distance: float) -> dict:
        created = immediate_api.post(
            "/v1/events", flight(program, "flyer", type="flight.completed", distance=distance, cabin="economy")
        ).json()
        body = immediate_api.get(f"/v1/events/{created['id']}").json()
        assert body["status"] == "COMPLETED", body
        return body

    person = fly(12000.0)["participant_id"]
    state = f"/v1/participants/{person}/state/tiers/status"
    assert immediate_api.get(state, program_id=program).status_code == 404  # 12,000 qualifying miles: none yet
    fly(13000.0)
    assert immediate_api.get(state, program_id=program).json()["level"] == "silver"  # 25,000 reached
    fly(1000.0)  # the rules read the level: silver earns 25% more
    balances = immediate_api.get(f"/v1/participants/{person}/balances").json()["data"]
    assert [b["available"] for b in balances] == [str(12000 + 13000 + 1250)]


def test_a_rank_beyond_the_column_is_400_not_500(api, program):
    for too_big in (2**63, 2**31):
        answer = api.post(
            f"/v1/programs/{program}/tiers", {"key": "status", "levels": [{"key": "gold", "rank": too_big}]}
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["details"]["field"].endswith("rank")


def test_a_lifecycle_is_checked_field_by_field_and_as_a_whole(api, program):
    unknown = api.post(f"/v1/programs/{program}/tiers", {**TIER, "lifecycle": {"retention": {"mode": "SOMETIMES"}}})
    assert (unknown.status_code, unknown.json()["code"]) == (400, "bad_request")
    extra = api.post(f"/v1/programs/{program}/tiers", {**TIER, "lifecycle": {"retension": {}}})
    assert extra.status_code == 400
    floor = {**HOLD_YEARLY, "downgrade_policy": {"mode": "DROP_ONE", "min_level": "platinum"}}
    refused = api.post(f"/v1/programs/{program}/tiers", {**TIER, "lifecycle": floor})
    assert (refused.status_code, refused.json()["code"]) == (400, "bad_request")
    assert "min_level 'platinum' is not a level of this tier" in refused.json()["message"]
    assert refused.json()["details"]["field"] == "lifecycle.downgrade_policy.min_level"
    api.post(f"/v1/programs/{program}/tiers", TIER)
    no_period = api.patch(
        f"/v1/programs/{program}/tiers/status", {"lifecycle": {"retention": {"mode": "PERIOD_BASED"}}}
    )
    assert (no_period.status_code, no_period.json()["details"]["field"]) == (400, "lifecycle.retention.mode")
    assert api.get(f"/v1/programs/{program}/tiers/status").json()["lifecycle"] == {}


def test_preview_lists_who_changed_tier_rules_would_move_and_writes_nothing(api, other_api, program):
    api.post(f"/v1/programs/{program}/tiers", TIER)
    for name, miles in (("low", 10000), ("high", 30000)):
        person = api.post("/v1/participants", {"external_id": name, "program_id": program}).json()
        api.put(f"/v1/participants/{person['id']}/state/counters/miles", {"value": str(miles)})
    before = rules_version(program)
    cheaper = {**TIER, "levels": [{"key": "bronze", "rank": 0}, {**SILVER, "qualification": {"criteria": [
        {"counter": "miles", "operator": ">=", "threshold": 5000}]}}]}  # fmt: skip
    answer = api.post(f"/v1/programs/{program}/tiers/preview", {"tiers": [cheaper], "limit": 1})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["members"], body["counts"]) == (2, {"status": {"UP": 2, "DOWN": 0}})
    (first,) = body["data"]
    assert (first["tier"], first["current_level"], first["new_level"], first["direction"]) == (
        "status",
        None,
        "silver",
        "UP",
    )
    assert rules_version(program) == before
    assert (
        api.get(f"/v1/programs/{program}/tiers/status").json()["levels"][1]["qualification"]
        == TIER["levels"][1]["qualification"]
    )
    contradictory = {**cheaper, "lifecycle": {"retention": {"mode": "PERIOD_BASED"}}}
    refused = api.post(f"/v1/programs/{program}/tiers/preview", {"tiers": [contradictory]})
    assert (refused.status_code, refused.json()["details"]["field"]) == (400, "lifecycle.retention.mode")
    assert api.post(f"/v1/programs/{program}/tiers/preview", {"tiers": []}).status_code == 400
    assert other_api.post(f"/v1/programs/{program}/tiers/preview", {"tiers": [cheaper]}).status_code == 404
