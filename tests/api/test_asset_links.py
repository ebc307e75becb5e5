"""Linking an asset to a further program (a coalition currency) and unlinking it while unused."""

from __future__ import annotations

from .conftest import Api, create_program


def test_one_asset_serves_two_programs(api: Api, program: str):
    partner = create_program(api, "Partner")["id"]
    linked = api.post(f"/v1/programs/{partner}/assets", {"asset_id": "PTS"})
    assert linked.status_code == 201, linked.text
    assert sorted(linked.json()["program_ids"]) == sorted([program, partner])
    person = api.post("/v1/participants", {"external_id": "ada", "program_id": partner}).json()
    credit = {"program_id": partner, "asset_id": "PTS", "type": "CREDIT", "amount": "5", "description": "partner"}
    assert api.post(f"/v1/participants/{person['id']}/balances/adjust", credit).status_code == 200
    again = api.post(f"/v1/programs/{partner}/assets", {"asset_id": "PTS"})
    assert (again.status_code, again.json()["code"]) == (409, "already_linked")


def test_unlink_only_what_the_program_has_not_used(api: Api, program: str):
    partner = create_program(api, "Partner")["id"]
    assert api.post(f"/v1/programs/{partner}/assets", {"asset_id": "PTS"}).status_code == 201
    assert api.delete(f"/v1/programs/{partner}/assets/PTS").status_code == 204
    assert api.get("/v1/assets/PTS").json()["program_ids"] == [program]
    missing = api.delete(f"/v1/programs/{partner}/assets/PTS")
    assert (missing.status_code, missing.json()["code"]) == (409, "asset_not_linked")
    rule = {"program_id": program, "name": "earn", "condition": "true",
            "actions": [{"type": "CREDIT", "asset_id": "PTS", "amount": "1"}]}  # fmt: skip
    assert api.post("/v1/rules", rule).status_code == 201
    named = api.delete(f"/v1/programs/{program}/assets/PTS")
    assert (named.status_code, named.json()["code"]) == (409, "asset_in_use")
    assert api.get("/v1/assets/PTS").json()["program_ids"] == [program]


def test_an_asset_with_history_or_rewards_in_the_program_stays_linked(api: Api, program: str):
    person = api.post("/v1/participants", {"external_id": "ada", "program_id": program}).json()
    credit = {"program_id": program, "asset_id": "PTS", "type": "CREDIT", "amount": "5", "description": "x"}
    assert api.post(f"/v1/participants/{person['id']}/balances/adjust", credit).status_code == 200
    used = api.delete(f"/v1/programs/{program}/assets/PTS")
    assert (used.status_code, used.json()["code"]) == (409, "asset_in_use")
    other = create_program(api, "Shop")["id"]
    assert api.post(f"/v1/programs/{other}/assets", {"asset_id": "PTS"}).status_code == 201
    reward = {"name": "Mug", "redemption_type": "UNIT_BASED", "asset_id": "PTS", "unit_cost": "1", "status": "DRAFT"}
    assert api.post(f"/v1/programs/{other}/rewards", reward).status_code == 201
    priced = api.delete(f"/v1/programs/{other}/assets/PTS")
    assert (priced.status_code, priced.json()["code"]) == (409, "asset_in_use")


def test_unknown_archived_and_foreign(api: Api, other_api: Api, program: str):
    partner = create_program(api, "Partner")["id"]
    assert api.post(f"/v1/programs/{partner}/assets", {"asset_id": "NOPE"}).status_code == 404
    assert api.post(f"/v1/programs/{partner}/assets", {}).status_code == 400
    assert other_api.post(f"/v1/programs/{partner}/assets", {"asset_id": "PTS"}).status_code == 404
    assert api.patch("/v1/assets/PTS", {"status": "ARCHIVED"}).status_code == 200
    archived = api.post(f"/v1/programs/{partner}/assets", {"asset_id": "PTS"})
    assert (archived.status_code, archived.json()["code"]) == (409, "asset_archived")
    assert api.patch(f"/v1/programs/{partner}", {"status": "ARCHIVED"}).status_code == 200
    closed = api.delete(f"/v1/programs/{partner}/assets/PTS")
    assert (closed.status_code, closed.json()["code"]) == (409, "program_archived")
