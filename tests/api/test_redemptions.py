"""Redemptions and reversals through the API: 201 then 200 on an idempotent replay, 409 for another
body; the errors and their codes; the lists; the webhooks; and the caps under real concurrency
against a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from engine.store.db import database_proxy
from engine.store.ledger.verify import verify
from engine.store.models import RedemptionRecord, RewardRecord
from tests.databases import BACKENDS, empty_database_url

from .conftest import Api, LiveServer, serving
from .test_webhook_events import deliveries, subscribe


@pytest.fixture
def person(api: Api, program: str) -> dict:
    response = api.post("/v1/participants", {"external_id": "ada", "program_id": program})
    assert response.status_code == 201
    credit = {"program_id": program, "asset_id": "PTS", "type": "CREDIT", "amount": "100", "description": "earned"}
    assert api.post(f"/v1/participants/{response.json()['id']}/balances/adjust", credit).status_code == 200
    return response.json()


def redeem(api: Api, person: dict, program: str, **fields):
    body = {"program_id": program, "asset_id": "PTS", "amount": "30", "description": "gift card", **fields}
    return api.post(f"/v1/participants/{person['id']}/redemptions", body)


def reward(api: Api, program: str, **fields) -> dict:
    body = {"name": "Coffee", "redemption_type": "UNIT_BASED", "asset_id": "PTS", "unit_cost": "10",
            "status": "ACTIVE", **fields}  # fmt: skip
    response = api.post(f"/v1/programs/{program}/rewards", body)
    assert response.status_code == 201, response.text
    return response.json()


def available(api: Api, person: dict) -> str:
    (found,) = api.get(f"/v1/participants/{person['id']}/balances").json()["data"]
    return found["available"]


def test_a_raw_redemption_answers_201_then_200_and_409_for_another_body(api: Api, program: str, person: dict):
    first = redeem(api, person, program, idempotency_key="k1")
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["amount"], body["status"], body["reward_id"], body["reversed_amount"]) == (
        "30.00",
        "COMPLETED",
        None,
        "0.00",
    )
    again = redeem(api, person, program, idempotency_key="k1")
    assert (again.status_code, again.json()) == (200, body)
    other = redeem(api, person, program, idempotency_key="k1", amount="31")
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_conflict")
    assert api.get(f"/v1/redemptions/{body['id']}").json() == body
    assert available(api, person) == "70.00"


def test_redemption_errors_have_stable_codes(api: Api, program: str, person: dict):
    short = redeem(api, person, program, amount="100.01")
    assert (short.status_code, short.json()["code"]) == (422, "insufficient_funds")
    scale = redeem(api, person, program, amount="1.001")
    assert (scale.status_code, scale.json()["code"]) == (400, "invalid_scale")
    zero = redeem(api, person, program, amount="0")
    assert zero.status_code == 400
    missing = redeem(api, person, program, description="")
    assert missing.status_code == 400
    unknown = api.post(
        "/v1/participants/01a243ca-0000-7000-8000-000000000000/redemptions",
        {"program_id": program, "asset_id": "PTS", "amount": "1", "description": "x"},
    )
    assert unknown.status_code == 404
    assert api.patch(f"/v1/participants/{person['id']}/status", {"status": "SUSPENDED"}).status_code == 200
    inactive = redeem(api, person, program, amount="1")
    assert (inactive.status_code, inactive.json()["code"]) == (409, "participant_inactive")
    assert api.get(f"/v1/redemptions/{'0' * 8}").status_code == 404


def test_catalog_redemptions_enforce_stock_caps_and_windows(api: Api, program: str, person: dict):
    item = reward(api, program, max_total=3, max_per_participant=2)
    path = f"/v1/participants/{person['id']}/redemptions/items"
    bought = api.post(path, {"program_id": program, "reward_id": item["id"], "quantity": 2})
    assert bought.status_code == 201, bought.text
    assert (bought.json()["amount"], bought.json()["quantity"], bought.json()["unit_cost"]) == ("20.00", 2, "10.00")
    capped = api.post(path, {"program_id": program, "reward_id": item["id"]})
    assert (capped.status_code, capped.json()["code"]) == (409, "redemption_limit_exceeded")
    amount = api.post(path, {"program_id": program, "reward_id": item["id"], "amount": "10"})
    assert (amount.status_code, amount.json()["details"]["field"]) == (400, "amount")
    later = reward(api, program, name="Later", available_from="2999-01-01T00:00:00Z")
    early = api.post(path, {"program_id": program, "reward_id": later["id"]})
    assert (early.status_code, early.json()["code"]) == (409, "reward_not_available")
    draft = reward(api, program, name="Draft", status="DRAFT")
    refused = api.post(path, {"program_id": program, "reward_id": draft["id"]})
    assert (refused.status_code, refused.json()["code"]) == (409, "reward_not_active")
    path = f"/v1/participants/{person['id']}/redemptions"
    listed = api.get(path, reward_catalog_item_id=item["id"]).json()["data"]
    assert [r["id"] for r in listed] == [bought.json()["id"]]
    assert api.get(path, to="2000-01-01T00:00:00Z").json()["data"] == []
    assert [r["id"] for r in api.get(path, status="COMPLETED", **{"from": "2000-01-01T00:00:00Z"}).json()["data"]] == [
        bought.json()["id"]
    ]


def test_reversals_restore_value_and_stock_and_are_listed_in_order(api: Api, program: str, person: dict):
    item = reward(api, program, max_total=2)
    path = f"/v1/participants/{person['id']}/redemptions/items"
    bought = api.post(path, {"program_id": program, "reward_id": item["id"], "quantity": 2}).json()
    rewards = f"/v1/programs/{program}/rewards/{item['id']}"
    assert api.get(rewards).json()["status"] == "OUT_OF_STOCK"
    reverse = f"/v1/redemptions/{bought['id']}/reverse"
    first = api.post(reverse, {"reason": "one back", "quantity": 1, "idempotency_key": "r1"})
    assert first.status_code == 201, first.text
    assert api.post(reverse, {"reason": "one back", "quantity": 1, "idempotency_key": "r1"}).status_code == 200
    assert (first.json()["amount"], first.json()["redemption"]["status"]) == ("10.00", "PARTIALLY_REVERSED")
    assert (api.get(rewards).json()["status"], api.get(rewards).json()["redeemed_count"]) == ("ACTIVE", 1)
    too_many = api.post(reverse, {"reason": "x", "quantity": 2})
    assert (too_many.status_code, too_many.json()["code"]) == (409, "reversal_exceeds_redemption")
    by_amount = api.post(reverse, {"reason": "x", "amount": "10"})
    assert (by_amount.status_code, by_amount.json()["details"]["field"]) == (400, "amount")
    rest = api.post(reverse, {"reason": "the rest"})
    assert rest.json()["redemption"]["status"] == "FULLY_REVERSED"
    done = api.post(reverse, {"reason": "again"})
    assert (done.status_code, done.json()["code"]) == (409, "redemption_fully_reversed")
    listed = api.get(f"/v1/redemptions/{bought['id']}/reversals").json()["data"]
    assert [r["id"] for r in listed] == [first.json()["id"], rest.json()["id"]]
    assert available(api, person) == "100.00"


def test_redemptions_and_reversals_send_their_webhooks_once(api: Api, program: str, person: dict):
    subscribe(api, "redemption.completed", "redemption.reversed", "balance.credited")
    made = redeem(api, person, program, idempotency_key="w1").json()
    redeem(api, person, program, idempotency_key="w1")
    api.post(f"/v1/redemptions/{made['id']}/reverse", {"reason": "refund", "amount": "5"})
    sent = [(kind, envelope["data"]) for _, kind, envelope in deliveries()]
    assert [kind for kind, _ in sent] == ["redemption.completed", "redemption.reversed", "balance.credited"]
    assert sent[0][1]["id"] == made["id"] and sent[0][1]["external_id"] == "ada"
    assert sent[1][1]["redemption"]["reversed_amount"] == "5.00"
    assert (sent[2][1]["amount"], sent[2][1]["reference_id"]) == ("5.00", made["id"])


@pytest.fixture(params=BACKENDS, scope="module")
def spending_server(request, tmp_path_factory) -> LiveServer:
    url = empty_database_url(request.param, tmp_path_factory.mktemp("spending"))
    with serving(url) as server:
        yield server


def prepared(server: LiveServer, people: int, **reward_fields) -> tuple[list[str], str]:
    """`people` funded participants and an ACTIVE reward of the server's program."""
    headers = {"X-API-Key": server.key}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
        asset = {"program_id": server.program_id, "name": "Points", "symbol": f"P{people}", "scale": 0}
        assert client.post("/v1/assets", json=asset).status_code == 201  # a symbol of its own per test
        ids = []
        for index in range(people):
            made = client.post("/v1/participants", json={"external_id": f"racer-{people}-{index}"}).json()
            credit = {"program_id": server.program_id, "asset_id": f"P{people}", "type": "CREDIT", "amount": "1000",
                      "description": "seed"}  # fmt: skip
            assert client.post(f"/v1/participants/{made['id']}/balances/adjust", json=credit).status_code == 200
            ids.append(made["id"])
        body = {"name": f"Last seat {people}", "redemption_type": "UNIT_BASED", "asset_id": f"P{people}",
                "unit_cost": "10", "status": "ACTIVE", **reward_fields}  # fmt: skip
        created = client.post(f"/v1/programs/{server.program_id}/rewards", json=body)
        assert created.status_code == 201, created.text
        return ids, created.json()["id"]


def race(server: LiveServer, calls: list[tuple[str, dict]]) -> list[httpx.Response]:
    headers = {"X-API-Key": server.key}

    def send(call: tuple[str, dict]) -> httpx.Response:
        return httpx.post(f"{server.url}{call[0]}", json=call[1], headers=headers, timeout=120)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(send, calls))


@pytest.mark.slow
def test_fifty_concurrent_redemptions_of_the_last_unit_give_one_success(spending_server: LiveServer):
    people, reward_id = prepared(spending_server, 50, max_total=1)
    body = {"program_id": spending_server.program_id, "reward_id": reward_id}
    answers = race(spending_server, [(f"/v1/participants/{p}/redemptions/items", body) for p in people])
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] + [409] * 49, codes
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"out_of_stock"}
    with database_proxy.connection_context():
        row = RewardRecord.get_by_id(reward_id)
        assert (row.redeemed_count, row.status) == (1, "OUT_OF_STOCK")
        assert RedemptionRecord.select().where(RedemptionRecord.reward == reward_id).count() == 1
        assert verify().ok


@pytest.mark.slow
def test_a_participant_cannot_race_past_max_per_participant(spending_server: LiveServer):
    (person,), reward_id = prepared(spending_server, 1, max_per_participant=2)
    body = {"program_id": spending_server.program_id, "reward_id": reward_id}
    answers = race(spending_server, [(f"/v1/participants/{person}/redemptions/items", body)] * 20)
    assert sorted(r.status_code for r in answers) == [201, 201] + [409] * 18
    with database_proxy.connection_context():
        assert RewardRecord.get_by_id(reward_id).redeemed_count == 2
        assert verify().ok
