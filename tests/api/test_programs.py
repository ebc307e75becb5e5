"""/v1/programs and /v1/assets: create, list, get, patch, wallet fund/burn/balance, isolation."""

from __future__ import annotations

import pytest

from tests.api.conftest import create_program


@pytest.fixture
def program(api) -> dict:
    return create_program(api, description="beans")


def asset(api, program_id, **overrides):
    body = {"program_id": program_id, "name": "Points", "symbol": "PTS", "scale": 2}
    body.update(overrides)
    return api.post("/v1/assets", body)


def test_create_and_get_program(api, program):
    assert program["status"] == "ACTIVE" and program["on_unknown_participant"] == "CREATE"
    assert program["redemption_target_type"] == "SYSTEM_REDEMPTION" and program["deleted_at"] is None
    got = api.get(f"/v1/programs/{program['id']}")
    assert got.status_code == 200 and got.json() == program


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x" * 256},
        {"name": "a", "on_unknown_participant": "MAYBE"},
        {"name": "a", "extra": 1},
        {"name": "a", "key": "Bad Key"},
    ],
)
def test_program_validation(api, body):
    response = api.post("/v1/programs", body)
    assert response.status_code == 400 and response.json()["code"] == "bad_request"


def test_program_key_is_unique(api):
    assert api.post("/v1/programs", {"name": "a", "key": "coffee"}).status_code == 201
    again = api.post("/v1/programs", {"name": "b", "key": "coffee"})
    assert again.status_code == 409 and again.json()["code"] == "already_exists"


def test_patch_program_and_archive_hides_it(api, program):
    pid = program["id"]
    patched = api.patch(f"/v1/programs/{pid}", {"name": "Tea", "description": None}).json()
    assert (patched["name"], patched["description"]) == ("Tea", None)
    archived = api.patch(f"/v1/programs/{pid}", {"status": "ARCHIVED"}).json()
    assert archived["status"] == "ARCHIVED" and archived["deleted_at"] is not None
    assert api.get("/v1/programs").json()["data"] == []
    assert [p["id"] for p in api.get("/v1/programs", include_archived="true").json()["data"]] == [pid]
    assert [p["id"] for p in api.get("/v1/programs", status="ARCHIVED").json()["data"]] == [pid]
    back = api.patch(f"/v1/programs/{pid}", {"status": "ACTIVE"}).json()
    assert back["status"] == "ACTIVE" and back["deleted_at"] is None


def test_redemption_target_rules(api, program):
    pid = program["id"]
    missing = api.patch(f"/v1/programs/{pid}", {"redemption_target_type": "LEDGER_ENTITY"})
    assert missing.status_code == 400 and missing.json()["details"]["field"] == "redemption_target_entity_id"
    unknown = api.patch(
        f"/v1/programs/{pid}",
        {
            "redemption_target_type": "LEDGER_ENTITY",
            "redemption_target_entity_id": "01a243ca-0000-7000-8000-000000000000",
        },
    )
    assert unknown.status_code == 404
    ok = api.patch(
        f"/v1/programs/{pid}", {"redemption_target_type": "LEDGER_ENTITY", "redemption_target_entity_id": pid}
    ).json()
    assert ok["redemption_target_id"] == pid
    cleared = api.patch(f"/v1/programs/{pid}", {"redemption_target_type": "SYSTEM_BREAKAGE"}).json()
    assert cleared["redemption_target_id"] is None
    bad = api.patch(
        f"/v1/programs/{pid}", {"redemption_target_type": "SYSTEM_BREAKAGE", "redemption_target_entity_id": pid}
    )
    assert bad.status_code == 400


def test_list_programs_search_sort_and_pages(api):
    names = ["Beta", "Alpha", "Gamma"]
    ids = {n: api.post("/v1/programs", {"name": n}).json()["id"] for n in names}
    by_name = api.get("/v1/programs", sort_by="name", sort_dir="asc", limit=2).json()
    assert [p["name"] for p in by_name["data"]] == ["Alpha", "Beta"]
    rest = api.get(
        "/v1/programs", sort_by="name", sort_dir="asc", limit=2, cursor=by_name["pagination"]["next_cursor"]
    ).json()
    assert [p["name"] for p in rest["data"]] == ["Gamma"] and rest["pagination"]["has_more"] is False
    assert [p["id"] for p in api.get("/v1/programs", search="amm").json()["data"]] == [ids["Gamma"]]


def test_programs_are_isolated(api, other_api, program):
    assert other_api.get(f"/v1/programs/{program['id']}").status_code == 404
    assert other_api.patch(f"/v1/programs/{program['id']}", {"name": "x"}).status_code == 404
    assert other_api.get("/v1/programs").json()["data"] == []


def test_create_asset_links_the_program(api, program):
    created = asset(api, program["id"], max_transaction_amount="1000")
    assert created.status_code == 201
    body = created.json()
    assert body["program_ids"] == [program["id"]] and body["max_transaction_amount"] == "1000"
    assert api.get(f"/v1/assets/{body['id']}").json() == body
    assert api.get("/v1/assets/PTS").json()["id"] == body["id"]
    duplicate = asset(api, program["id"])
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "asset_exists"


@pytest.mark.parametrize(
    "overrides",
    [
        {"scale": 19},
        {"scale": -1},
        {"symbol": "P-T"},
        {"symbol": "X" * 17},
        {"inventory_mode": "BULK"},
        {"max_transaction_amount": "-1"},
        {"max_transaction_amount": 5},
        {"max_transaction_amount": "0"},
    ],
)
def test_asset_validation(api, program, overrides):
    response = asset(api, program["id"], **overrides)
    assert response.status_code == 400, response.text


def test_asset_for_unknown_program_is_404(api, other_api, program):
    assert asset(other_api, program["id"]).status_code == 404


def test_patch_and_archive_asset(api, program):
    aid = asset(api, program["id"], max_transaction_amount="50").json()["id"]
    patched = api.patch(f"/v1/assets/{aid}", {"name": "Stars", "max_transaction_amount": None}).json()
    assert patched["name"] == "Stars" and patched["max_transaction_amount"] is None
    assert api.patch(f"/v1/assets/{aid}", {"status": "ACTIVE"}).status_code == 400
    archived = api.patch(f"/v1/assets/{aid}", {"status": "ARCHIVED"}).json()
    assert archived["status"] == "ARCHIVED"
    again = api.patch(f"/v1/assets/{aid}", {"name": "x"})
    assert again.status_code == 409 and again.json()["code"] == "asset_archived"
    assert [a["id"] for a in api.get("/v1/assets", status="ARCHIVED").json()["data"]] == [aid]


def test_list_assets_filters(api, program):
    other = api.post("/v1/programs", {"name": "Other"}).json()["id"]
    a = asset(api, program["id"]).json()["id"]
    b = asset(api, other, symbol="CASH", name="Cash").json()["id"]
    assert [x["id"] for x in api.get("/v1/assets").json()["data"]] == [a, b]
    assert [x["id"] for x in api.get("/v1/assets", program_id=other).json()["data"]] == [b]
    assert [x["id"] for x in api.get("/v1/assets", search="cas").json()["data"]] == [b]


def test_fund_burn_and_wallet_balance(api, program):
    pid = program["id"]
    asset(api, pid, issuance_policy="PREFUNDED")
    asset(api, pid, symbol="FREE", name="Free")
    funded = api.post(f"/v1/programs/{pid}/assets/PTS/fund", {"amount": "100.5", "description": "seed"})
    assert funded.status_code == 200
    assert funded.json()["available"] == "100.50" and funded.json()["message"] == "Program funded successfully"
    burned = api.post(f"/v1/programs/{pid}/assets/PTS/burn", {"amount": "0.5"}).json()
    assert burned["available"] == "100.00"
    over = api.post(f"/v1/programs/{pid}/assets/PTS/burn", {"amount": "101"})
    assert over.status_code == 422 and over.json()["code"] == "insufficient_funds"
    scale = api.post(f"/v1/programs/{pid}/assets/PTS/fund", {"amount": "1.001"})
    assert scale.status_code == 400 and scale.json()["code"] == "invalid_scale"
    unlimited = api.post(f"/v1/programs/{pid}/assets/FREE/fund", {"amount": "1"})
    assert unlimited.status_code == 409 and unlimited.json()["code"] == "asset_not_prefunded"
    balance = api.get(f"/v1/programs/{pid}/balance").json()["data"]
    assert [(b["available"], b["held"], b["issuance_policy"]) for b in balance] == [("100.00", "0.00", "PREFUNDED")]
    assert api.post(f"/v1/programs/{pid}/assets/PTS/fund", {"amount": "abc"}).status_code == 400
