"""/v1/groups: create, list, get with balances, rename, archive, members, balance operations."""

from __future__ import annotations

from decimal import Decimal

import pytest

from .conftest import Api
from .test_webhook_events import deliveries, subscribe


def participant(api: Api, external_id: str, program: str | None = None) -> str:
    body = {"external_id": external_id, **({"program_id": program} if program else {})}
    response = api.post("/v1/participants", body)
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


@pytest.fixture
def people(api, program) -> list[str]:
    return [participant(api, name, program) for name in ("ann", "ben", "cat")]


@pytest.fixture
def group(api, people) -> dict:
    body = {"name": "Smiths", "members": [{"participant_id": people[0], "role": "ADMIN"},
            {"participant_id": people[1]}], "on_behalf_of_participant_id": people[0]}  # fmt: skip
    response = api.post("/v1/groups", body)
    assert response.status_code == 201, response.text
    return response.json()


def members(api: Api, group: dict, **params) -> list[tuple[str, str, str]]:
    response = api.get(f"/v1/groups/{group['id']}/members", **params)
    assert response.status_code == 200, response.text
    return [(m["participant_id"], m["role"], m["status"]) for m in response.json()["data"]]


def test_create_get_and_list(api, other_api, people, group):
    assert group["status"] == "ACTIVE" and group["name"] == "Smiths" and group["deleted_at"] is None
    assert group["on_behalf_of_participant_id"] == people[0] and "balances" not in group
    got = api.get(f"/v1/groups/{group['id']}").json()
    assert got["balances"] == {} and got["id"] == group["id"]
    assert other_api.get(f"/v1/groups/{group['id']}").status_code == 404
    assert members(api, group) == [(people[0], "ADMIN", "ACTIVE"), (people[1], "MEMBER", "ACTIVE")]
    listed = api.get("/v1/groups").json()
    assert [g["id"] for g in listed["data"]] == [group["id"]] and listed["pagination"]["has_more"] is False
    assert api.get("/v1/groups", search="mit").json()["data"][0]["id"] == group["id"]
    assert api.get("/v1/groups", search="zzz").json()["data"] == []
    assert other_api.get("/v1/groups").json()["data"] == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "G", "members": []}, 400, "bad_request"),
        ({"name": "", "members": [{"participant_id": "{0}", "role": "ADMIN"}]}, 400, "bad_request"),
        ({"name": "G", "members": [{"participant_id": "{0}"}]}, 400, "admin_required"),
        ({"name": "G", "members": [{"participant_id": "{0}", "role": "OWNER"}]}, 400, "bad_request"),
        ({"name": "G", "members": [{"participant_id": "{0}", "role": "ADMIN"}, {"participant_id": "{0}"}]},
         400, "duplicate_member"),
        ({"name": "G", "members": [{"participant_id": "nobody", "role": "ADMIN"}]}, 404, "not_found"),
        ({"name": "G", "members": [{"participant_id": "{0}", "role": "ADMIN"}], "on_behalf_of_participant_id": "x"},
         404, "not_found"),
        ({"name": "G", "members": [{"participant_id": "{0}", "role": "ADMIN"}], "colour": "red"}, 400, "bad_request"),
    ],
)  # fmt: skip
def test_create_refuses_bad_groups(api, people, body, status, code):
    body = {**body, "members": [{**m, "participant_id": m["participant_id"].format(*people)} for m in body["members"]]}
    response = api.post("/v1/groups", body)
    assert (response.status_code, response.json()["code"]) == (status, code), response.text


def test_membership_add_one_or_many_change_role_remove_and_re_add(api, people, group):
    path = f"/v1/groups/{group['id']}/members"
    added = api.post(path, {"participant_id": people[2], "role": "ADMIN", "on_behalf_of_participant_id": people[0]})
    assert added.status_code == 200 and added.json() == {"message": "Member(s) added to group"}
    again = api.post(path, {"members": [{"participant_id": people[2]}]})
    assert (again.status_code, again.json()["code"]) == (409, "already_member")
    changed = api.patch(f"{path}/{people[1]}", {"role": "ADMIN"})
    assert changed.json() == {"message": "Member role updated", "participant_id": people[1], "role": "ADMIN"}
    removed = api.delete(f"{path}/{people[2]}", on_behalf_of_participant_id=people[0])
    assert removed.status_code == 200 and removed.json()["status"] == "LEFT" and removed.json()["left_at"]
    assert members(api, group) == [(people[0], "ADMIN", "ACTIVE"), (people[1], "ADMIN", "ACTIVE")]
    assert members(api, group, include_former="true")[-1] == (people[2], "ADMIN", "LEFT")
    assert api.delete(f"{path}/{people[2]}").status_code == 404
    back = api.post(path, {"members": [{"participant_id": people[2], "role": "MEMBER"}]})
    assert back.json() == {"message": "Member(s) added to group"}
    assert members(api, group)[-1] == (people[2], "MEMBER", "ACTIVE")


@pytest.mark.parametrize(
    "body",
    [{}, {"participant_id": "p", "members": [{"participant_id": "p"}]}, {"members": []},
     {"members": [{"participant_id": "p"}], "role": "ADMIN"}, {"participant_id": "p", "role": "BOSS"}],
)  # fmt: skip
def test_add_members_needs_one_form_of_the_body(api, group, body):
    response = api.post(f"/v1/groups/{group['id']}/members", body)
    assert (response.status_code, response.json()["code"]) == (400, "bad_request"), response.text


def test_the_last_admin_is_protected(api, people, group):
    path = f"/v1/groups/{group['id']}/members/{people[0]}"
    demoted = api.patch(path, {"role": "MEMBER"})
    removed = api.delete(path)
    assert [(r.status_code, r.json()["code"]) for r in (demoted, removed)] == [(409, "last_admin")] * 2


def test_rename_and_archive_one_way(api, people, group):
    path = f"/v1/groups/{group['id']}"
    assert api.patch(path, {"name": "Joneses"}).json()["name"] == "Joneses"
    archived = api.delete(path)
    assert archived.status_code == 200 and archived.json()["status"] == "ARCHIVED" and archived.json()["deleted_at"]
    assert api.get(path).json()["status"] == "ARCHIVED"
    assert api.get(f"{path}/members").status_code == 200
    assert api.get("/v1/groups").json()["data"] == []
    assert [g["id"] for g in api.get("/v1/groups", include_archived="true").json()["data"]] == [group["id"]]
    refused = [
        api.patch(path, {"name": "X"}),
        api.delete(path),
        api.post(f"{path}/members", {"participant_id": people[2]}),
        api.patch(f"{path}/members/{people[1]}", {"role": "ADMIN"}),
        api.delete(f"{path}/members/{people[1]}"),
    ]
    assert {(r.status_code, r.json()["code"]) for r in refused} == {(409, "group_archived")}


def test_list_pages_with_a_cursor(api, people):
    made = []
    for n in range(3):
        body = {"name": f"G{n}", "members": [{"participant_id": people[0], "role": "ADMIN"}]}
        made.append(api.post("/v1/groups", body).json()["id"])
    first = api.get("/v1/groups", limit=2, sort_dir="asc").json()
    assert [g["id"] for g in first["data"]] == made[:2] and first["pagination"]["has_more"]
    rest = api.get("/v1/groups", limit=2, sort_dir="asc", cursor=first["pagination"]["next_cursor"]).json()
    assert [g["id"] for g in rest["data"]] == made[2:]


def test_group_balances_and_operations(api, program, people, group):
    subscribe(api, "balance.*")
    path = f"/v1/groups/{group['id']}/balances"
    body = {"program_id": program, "asset_id": "PTS", "description": "family"}
    adjusted = api.post(f"{path}/adjust", {**body, "type": "CREDIT", "amount": "100"})
    assert adjusted.status_code == 200, adjusted.text
    assert adjusted.json()["message"] == "Group balance adjusted successfully"
    held = api.post(f"{path}/hold", {**body, "amount": "30", "idempotency_key": "h1"})
    assert held.json()["operation"] == "HOLD" and held.json()["balance"]["held"] == "30.00"
    assert api.post(f"{path}/hold", {**body, "amount": "30", "idempotency_key": "h1"}).json() == held.json()
    assert api.post(f"{path}/release", {**body, "amount": "10"}).json()["balance"]["available"] == "80.00"
    forfeit = api.post(f"{path}/forfeit", {**body, "amount": "5", "bucket": "AVAILABLE"})
    assert forfeit.json()["amount_processed"] == "5.00"
    refused = api.post(f"{path}/forfeit", {**body, "bucket": "HELD"})
    assert (refused.status_code, refused.json()["code"]) == (400, "bad_request")
    pts = adjusted.json()["asset_id"]
    [row] = api.get(path).json()["data"]
    assert row == {"program_id": program, "asset_id": pts, "balance": "95.00", "available": "75.00",
                   "held": "20.00", "deferred": "0.00"}  # fmt: skip
    assert api.get(path, program_id=program, asset_id="PTS").json()["data"] == [row]
    assert api.get(f"/v1/groups/{group['id']}").json()["balances"] == {pts: "95.00"}
    person = api.get(f"/v1/participants/{people[0]}").json()
    assert person["balances"] == []  # members' own balances are not the group's
    sent = deliveries()
    assert [t for _, t, _ in sent] == ["balance.credited", "balance.held", "balance.released"]
    for _, _, envelope in sent:
        assert envelope["data"]["group_id"] == group["id"] and "participant_id" not in envelope["data"]


def test_balance_operations_on_unknown_or_archived_groups(api, other_api, program, group):
    body = {"program_id": program, "asset_id": "PTS", "description": "x", "type": "CREDIT", "amount": "1"}
    assert other_api.post(f"/v1/groups/{group['id']}/balances/adjust", body).status_code == 404
    assert api.post("/v1/groups/nope/balances/adjust", body).status_code == 404
    assert api.get("/v1/groups/nope/balances").status_code == 404
    api.delete(f"/v1/groups/{group['id']}")
    refused = api.post(f"/v1/groups/{group['id']}/balances/adjust", body)
    assert (refused.status_code, refused.json()["code"]) == (409, "group_archived")


def _provisional_group_credit(group: dict, program: str, amount: int, reference_id: str) -> None:
    """A credit straight into the group's HELD under a reference, as a rule's authorisation makes it."""
    from engine.store.db import database_proxy, utcnow, write_transaction
    from engine.store.ledger import movements
    from engine.store.ledger.journal import Ledger
    from engine.store.ledger.movements import Entity
    from engine.store.models import Asset, Group

    with database_proxy.connection_context(), write_transaction():
        ledger = Ledger(Group.get_by_id(group["id"]).organisation_id)
        entity = Entity("GROUP", group["id"], program)
        movements.credit(ledger, Asset.get(Asset.symbol == "MILES"), program, entity, Decimal(amount),
                         as_of=utcnow(), bucket="HELD", reference_id=reference_id, description="auth")  # fmt: skip
        ledger.finish()


def test_void_hold_cancels_only_the_groups_provisional_accrual(api, program, group):
    lot_asset = {"program_id": program, "name": "Miles", "symbol": "MILES", "scale": 0, "inventory_mode": "LOT"}
    assert api.post("/v1/assets", lot_asset).status_code == 201
    path = f"/v1/groups/{group['id']}/balances"
    body = {"program_id": program, "asset_id": "MILES", "description": "desk"}
    assert api.post(f"{path}/adjust", {**body, "type": "CREDIT", "amount": "50"}).status_code == 200
    _provisional_group_credit(group, program, 30, "auth-1")
    assert api.post(f"{path}/hold", {**body, "amount": "20", "reference_id": "auth-1"}).status_code == 200
    void = {**body, "reference_id": "auth-1", "amount": "1", "idempotency_key": "v1"}  # amount is ignored
    voided = api.post(f"{path}/void-hold", void)
    assert voided.status_code == 200, voided.text
    assert (voided.json()["operation"], voided.json()["amount_processed"]) == ("VOID_HOLD", "30")
    assert [lot["amount"] for lot in voided.json()["lots_processed"]] == ["30"]
    assert voided.json()["balance"] == {"available": "30", "held": "20", "deferred": "0"}
    assert api.post(f"{path}/void-hold", void).json() == voided.json()  # the idempotent replay
    again = api.post(f"{path}/void-hold", {**void, "idempotency_key": "v2"})
    assert (again.status_code, again.json()["code"]) == (422, "hold_not_found")
    simple = api.post(f"{path}/void-hold", {**void, "asset_id": "PTS", "idempotency_key": "v3"})
    assert (simple.status_code, simple.json()["code"]) == (400, "bad_request")
    assert api.post("/v1/groups/nope/balances/void-hold", {**void, "idempotency_key": "v5"}).status_code == 404
    api.delete(f"/v1/groups/{group['id']}")
    archived = api.post(f"{path}/void-hold", {**void, "idempotency_key": "v4"})
    assert (archived.status_code, archived.json()["code"]) == (409, "group_archived")
    from engine.store.db import database_proxy
    from engine.store.ledger.verify import verify

    with database_proxy.connection_context():
        assert verify().ok


def test_transfers_pool_into_a_group_and_pay_out_of_it(api, program, people, group):
    credit = {"program_id": program, "asset_id": "PTS", "type": "CREDIT", "amount": "60", "description": "earned"}
    api.post(f"/v1/participants/{people[1]}/balances/adjust", credit)
    body = {"program_id": program, "asset_id": "PTS", "description": "pool"}
    pooled = api.post("/v1/transfers", {**body, "source_participant_id": people[1],
                                        "recipients": [{"group_id": group["id"], "amount": "50"}]})  # fmt: skip
    assert pooled.status_code == 201, pooled.text
    assert pooled.json()["recipients"][0] == {"type": "GROUP", "id": group["id"], "amount": "50.00"}
    paid = api.post("/v1/transfers", {**body, "source_group_id": group["id"],
                                      "recipients": [{"participant_id": people[2], "amount": "20"}]})  # fmt: skip
    assert (paid.status_code, paid.json()["source_type"]) == (201, "GROUP"), paid.text
    assert api.get(f"/v1/groups/{group['id']}").json()["balances"] == {pooled.json()["asset_id"]: "30.00"}
    api.delete(f"/v1/groups/{group['id']}")
    refused = api.post("/v1/transfers", {**body, "source_group_id": group["id"],
                                         "recipients": [{"participant_id": people[2], "amount": "1"}]})  # fmt: skip
    assert (refused.status_code, refused.json()["code"]) == (409, "group_archived")


def test_a_rule_targeting_a_group_credits_its_wallet(immediate_api):
    api = immediate_api
    program = api.post("/v1/programs", {"name": "Family"}).json()["id"]
    api.post("/v1/assets", {"program_id": program, "name": "Miles", "symbol": "MILES", "scale": 0})
    owner = participant(api, "ann", program)
    group = api.post("/v1/groups", {"name": "Smiths", "members": [{"participant_id": owner, "role": "ADMIN"}]}).json()
    rule = {"program_id": program, "name": "pool", "condition": "has(event.group_id)",
            "actions": [{"type": "CREDIT", "asset_id": "MILES", "amount": "event.amount",
                         "target": {"type": "GROUP", "id": "event.group_id"}}]}  # fmt: skip
    assert api.post("/v1/rules", rule).status_code == 201
    event = {"program_id": program, "external_id": "ann", "event_timestamp": "2026-01-01T00:00:00Z",
             "event_data": {"amount": 120, "group_id": group["id"]}}  # fmt: skip
    accepted = api.post("/v1/events", {**event, "idempotency_key": "e1"})
    assert accepted.status_code == 202, accepted.text
    done = api.get(f"/v1/events/{accepted.json()['id']}").json()
    assert done["status"] == "COMPLETED", done
    [row] = api.get(f"/v1/groups/{group['id']}/balances").json()["data"]
    assert (row["program_id"], row["balance"]) == (program, "120")
    assert api.get(f"/v1/participants/{owner}").json()["balances"] == []
    api.delete(f"/v1/groups/{group['id']}")
    failed = api.post("/v1/events", {**event, "idempotency_key": "e2"}).json()
    assert api.get(f"/v1/events/{failed['id']}").json()["status"] == "FAILED"


def test_group_state_tags_counters_attributes_and_history(api, other_api, group):
    base = f"/v1/groups/{group['id']}"
    assert api.put(f"{base}/state/tags/Family").json() == {"tag": "family"}
    assert api.put(f"{base}/state/tags", {"tags": ["a", "B"]}).json() == {"tags": ["a", "b"]}
    assert api.delete(f"{base}/state/tags/a").status_code == 204
    assert api.get(f"{base}/state/tags").json()["data"] == [{"tag": "b"}]
    counter = api.put(f"{base}/state/counters/trips", {"value": "3", "reset_after": "720h"}).json()
    assert (counter["value"], counter["reset_after"]) == ("3", "720h")
    assert api.get(f"{base}/state/counters/trips").json()["value"] == "3"
    assert [c["key"] for c in api.get(f"{base}/state/counters").json()["data"]] == ["trips"]
    assert api.put(f"{base}/state/attributes/city", {"value": "Oslo"}).json() == {"key": "city", "value": "Oslo"}
    merged = api.patch(f"{base}/state/attributes", {"attributes": {"plan": "gold"}}).json()
    assert merged == {"attributes": {"city": "Oslo", "plan": "gold"}}
    assert api.delete(f"{base}/state/attributes/plan").status_code == 204
    assert api.delete(f"{base}/state/counters/trips").status_code == 204
    assert api.get(f"{base}/state/counters/trips").status_code == 404
    assert api.get(f"{base}/state/attributes").json()["data"] == [{"key": "city", "value": "Oslo"}]
    history = api.get(f"{base}/activity/state-history").json()["data"]
    assert history[0]["state_type"] == "counter" and history[0]["operation"] == "delete"
    assert {h["changed_by_api_key_id"] for h in history} != {None}
    tags = api.get(f"{base}/activity/state-history", state_type="tag").json()["data"]
    assert {h["state_type"] for h in tags} == {"tag"}
    assert other_api.get(f"{base}/state/tags").status_code == 404
    participant_view = api.get(f"/v1/participants/{group['id']}/state/tags")
    assert participant_view.status_code == 404  # a group's id is not a participant's


def test_an_archived_groups_state_is_read_not_changed(api, group):
    base = f"/v1/groups/{group['id']}"
    api.put(f"{base}/state/tags/family")
    api.delete(base)
    assert api.get(f"{base}/state/tags").json()["data"] == [{"tag": "family"}]
    refused = [
        api.put(f"{base}/state/tags/x"),
        api.delete(f"{base}/state/tags/family"),
        api.put(f"{base}/state/counters/k", {"value": "1"}),
        api.patch(f"{base}/state/attributes", {"attributes": {"a": "b"}}),
    ]
    assert {(r.status_code, r.json()["code"]) for r in refused} == {(409, "group_archived")}


def test_rules_read_the_group_the_event_names(immediate_api):
    api = immediate_api
    program = api.post("/v1/programs", {"name": "Family"}).json()["id"]
    api.post("/v1/assets", {"program_id": program, "name": "Miles", "symbol": "MILES", "scale": 0})
    owner = participant(api, "ann", program)
    members = [{"participant_id": owner, "role": "ADMIN"}]
    family = api.post("/v1/groups", {"name": "Smiths", "members": members}).json()
    other = api.post("/v1/groups", {"name": "Joneses", "members": members}).json()
    api.put(f"/v1/groups/{family['id']}/state/attributes/plan", {"value": "family"})
    rule = {"program_id": program, "name": "family bonus", "condition": 'group.attributes.plan == "family"',
            "actions": [{"type": "CREDIT", "asset_id": "MILES", "amount": "10",
                         "target": {"type": "GROUP", "id": "group.id"}}]}  # fmt: skip
    assert api.post("/v1/rules", rule).status_code == 201
    for key, group in (("e1", family), ("e2", other)):
        event = {"program_id": program, "external_id": "ann", "event_timestamp": "2026-01-01T00:00:00Z",
                 "idempotency_key": key, "event_data": {"group_id": group["id"]}}  # fmt: skip
        assert api.post("/v1/events", event).status_code == 202
    miles = api.get("/v1/assets/MILES").json()["id"]
    assert api.get(f"/v1/groups/{family['id']}").json()["balances"] == {miles: "10"}
    assert api.get(f"/v1/groups/{other['id']}").json()["balances"] == {}
