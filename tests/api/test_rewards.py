"""The rewards catalog through the API: create, list (filters, search, sort, pages), get, patch;
type and asset immutable; OUT_OF_STOCK following the stock; errors with stable codes."""

from __future__ import annotations

from .conftest import Api


def coffee(program: str, **fields) -> dict:
    return {
        "name": "Free coffee",
        "redemption_type": "UNIT_BASED",
        "asset_id": "PTS",
        "unit_cost": "2.50",
        "status": "ACTIVE",
        **fields,
    }


def create(api: Api, program: str, **fields) -> dict:
    response = api.post(f"/v1/programs/{program}/rewards", coffee(program, **fields))
    assert response.status_code == 201, response.text
    return response.json()


def test_create_get_and_patch_a_reward(api: Api, program: str):
    reward = create(api, program, max_total=10, metadata={"sku": "C1"}, available_until="2999-01-01T00:00:00Z")
    assert (reward["unit_cost"], reward["redeemed_count"], reward["status"], reward["metadata"]) == (
        "2.50",
        0,
        "ACTIVE",
        {"sku": "C1"},
    )
    path = f"/v1/programs/{program}/rewards/{reward['id']}"
    assert api.get(path).json() == reward
    patched = api.patch(path, {"unit_cost": "3", "description": "hot", "available_until": None}).json()
    assert (patched["unit_cost"], patched["description"], patched["available_until"]) == ("3.00", "hot", None)
    archived = api.patch(path, {"status": "ARCHIVED"}).json()
    assert archived["status"] == "ARCHIVED" and archived["deleted_at"] is not None


def test_type_and_asset_are_immutable_and_errors_name_the_field(api: Api, program: str):
    reward = create(api, program)
    path = f"/v1/programs/{program}/rewards/{reward['id']}"
    changed = api.patch(path, {"redemption_type": "AMOUNT_BASED"})
    assert changed.status_code == 400 and changed.json()["details"]["field"] == "redemption_type"
    nulled = api.patch(path, {"name": None})
    assert nulled.status_code == 400 and nulled.json()["details"]["field"] == "name"
    amount_capped = api.post(
        f"/v1/programs/{program}/rewards", coffee(program, name="V", redemption_type="AMOUNT_BASED", max_total=3)
    )
    assert amount_capped.status_code == 400 and amount_capped.json()["details"]["field"] == "max_total"
    duplicate = api.post(f"/v1/programs/{program}/rewards", coffee(program))
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "already_exists")
    unknown = api.post(f"/v1/programs/{program}/rewards", coffee(program, name="X", asset_id="NOPE"))
    assert unknown.status_code == 404
    stocked = api.post(f"/v1/programs/{program}/rewards", coffee(program, name="Y", status="OUT_OF_STOCK"))
    assert stocked.status_code == 400
    window = api.post(
        f"/v1/programs/{program}/rewards",
        coffee(program, name="Z", available_from="2026-02-01T00:00:00Z", available_until="2026-01-01T00:00:00Z"),
    )
    assert window.status_code == 400 and window.json()["details"]["field"] == "available_until"


def test_a_reward_with_no_stock_is_out_of_stock_until_max_total_grows(api: Api, program: str):
    reward = create(api, program, max_total=0)
    assert reward["status"] == "OUT_OF_STOCK"
    grown = api.patch(f"/v1/programs/{program}/rewards/{reward['id']}", {"max_total": 1}).json()
    assert grown["status"] == "ACTIVE"


def test_list_filters_searches_sorts_and_pages(api: Api, program: str):
    for name in ("Tea", "Coffee", "Cake"):
        create(api, program, name=name)
    api.patch(f"/v1/programs/{program}/rewards/{create(api, program, name='Old coffee')['id']}", {"status": "ARCHIVED"})
    path = f"/v1/programs/{program}/rewards"
    by_name = api.get(path, sort_by="name", sort_dir="asc").json()["data"]
    assert [r["name"] for r in by_name] == ["Cake", "Coffee", "Tea"]
    assert [r["name"] for r in api.get(path, search="offee", include_archived="true").json()["data"]] == [
        "Old coffee",
        "Coffee",
    ]
    assert [r["name"] for r in api.get(path, status="ARCHIVED").json()["data"]] == ["Old coffee"]
    first = api.get(path, limit=2, sort_by="name", sort_dir="asc").json()
    rest = api.get(path, limit=2, sort_by="name", sort_dir="asc", cursor=first["pagination"]["next_cursor"]).json()
    assert [r["name"] for r in first["data"] + rest["data"]] == ["Cake", "Coffee", "Tea"]


def test_another_organisation_sees_no_reward(api: Api, other_api: Api, program: str):
    reward = create(api, program)
    assert other_api.get(f"/v1/programs/{program}/rewards/{reward['id']}").status_code == 404
    assert other_api.get(f"/v1/programs/{program}/rewards").status_code == 404


def test_a_window_is_rfc3339_text_never_a_unix_number(api: Api, program: str):
    for value in (0, 1700000000, "1700000000", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z"):
        refused = api.post(f"/v1/programs/{program}/rewards", coffee(program, available_until=value))
        assert (refused.status_code, refused.json()["code"]) == (400, "bad_request"), (value, refused.text)
    reward = create(api, program)
    patched = api.patch(f"/v1/programs/{program}/rewards/{reward['id']}", {"available_from": 0})
    assert patched.status_code == 400
    applied = api.post(
        "/v1/programs/apply",
        {"program": {"key": "k", "name": "K"}, "rewards": [{**coffee(program), "available_until": 0}]},
    )
    assert applied.status_code == 400
