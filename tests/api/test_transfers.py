"""Transfers through the API: typed parties, one zero-sum entry, 201 then 200 on a replay, the
refusals with their codes, and `transfer.completed`."""

from __future__ import annotations

from decimal import Decimal

import pytest

from .conftest import Api
from .test_webhook_events import deliveries, subscribe


@pytest.fixture
def people(api: Api, program: str) -> list[dict]:
    made = []
    for name in ("ann", "ben", "cy"):
        response = api.post("/v1/participants", {"external_id": name, "program_id": program})
        assert response.status_code == 201
        made.append(response.json())
    credit = {"program_id": program, "asset_id": "PTS", "type": "CREDIT", "amount": "50", "description": "earned"}
    assert api.post(f"/v1/participants/{made[0]['id']}/balances/adjust", credit).status_code == 200
    return made


def send(api: Api, program: str, source: dict, recipients: list[dict], **fields):
    body = {"program_id": program, "asset_id": "PTS", "description": "gift", **source, "recipients": recipients,
            **fields}  # fmt: skip
    return api.post("/v1/transfers", body)


def available(api: Api, person: dict) -> str:
    found = api.get(f"/v1/participants/{person['id']}/balances").json()["data"]
    return found[0]["available"] if found else "0"


def test_a_transfer_pays_every_recipient_in_one_entry_and_replays(api: Api, program: str, people: list[dict]):
    ann, ben, _ = people
    subscribe(api, "transfer.completed")
    recipients = [{"participant_id": ben["id"], "amount": "10"}, {"external_id": "cy", "amount": "2.5"}]
    made = send(api, program, {"source_external_id": "ann"}, recipients, idempotency_key="t1")
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["total_amount"], body["recipient_count"], body["source_id"]) == ("12.50", 2, ann["id"])
    assert [r["amount"] for r in body["recipients"]] == ["10.00", "2.50"]
    again = send(api, program, {"source_external_id": "ann"}, recipients, idempotency_key="t1")
    assert (again.status_code, again.json()) == (200, body)
    other = send(api, program, {"source_external_id": "ann"}, recipients[:1], idempotency_key="t1")
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_conflict")
    assert [available(api, p) for p in people] == ["37.50", "10.00", "2.50"]
    ((_, kind, envelope),) = deliveries()
    assert (kind, envelope["data"]["journal_entry_id"], envelope["data"]["source_external_id"]) == (
        "transfer.completed",
        body["journal_entry_id"],
        "ann",
    )
    entry = api.get(f"/v1/journal-entries/{body['journal_entry_id']}").json()
    assert entry["action_type"] == "TRANSFER" and len(entry["postings"]) == 3
    assert sum(Decimal(p["amount"]) for p in entry["postings"]) == 0


@pytest.mark.parametrize(
    ("source", "recipient", "status", "code"),
    [
        ({"source_external_id": "ann"}, {"external_id": "ann"}, 400, "self_transfer"),
        ({"source_external_id": "ann"}, {"group_id": "g1"}, 404, "not_found"),
        ({"source_external_id": "ann", "source_participant_id": "x"}, {"external_id": "ben"}, 400, "bad_request"),
        ({}, {"external_id": "ben"}, 400, "bad_request"),
        ({"source_external_id": "ann"}, {"external_id": "ben", "participant_id": "x"}, 400, "bad_request"),
        ({"source_external_id": "ann"}, {"external_id": "nobody"}, 404, "not_found"),
        ({"source_external_id": "ben"}, {"external_id": "cy"}, 422, "insufficient_funds"),
    ],
)
def test_refusals_move_nothing(api: Api, program: str, people: list[dict], source, recipient, status, code):
    refused = send(api, program, source, [{**recipient, "amount": "1"}])
    assert (refused.status_code, refused.json()["code"]) == (status, code), refused.text
    assert [available(api, p) for p in people] == ["50.00", "0", "0"]


def test_inactive_parties_and_bad_bodies(api: Api, program: str, people: list[dict]):
    ann, ben, _ = people
    assert api.patch(f"/v1/participants/{ben['id']}/status", {"status": "SUSPENDED"}).status_code == 200
    inactive = send(api, program, {"source_participant_id": ann["id"]}, [{"participant_id": ben["id"], "amount": "1"}])
    assert (inactive.status_code, inactive.json()["code"]) == (409, "participant_inactive")
    empty = send(api, program, {"source_participant_id": ann["id"]}, [])
    assert empty.status_code == 400
    too_many = [{"external_id": f"p{i}", "amount": "1"} for i in range(101)]
    assert send(api, program, {"source_participant_id": ann["id"]}, too_many).status_code == 400
    unlinked = send(api, program, {"source_participant_id": ann["id"]}, [{"external_id": "cy", "amount": "1"}],
                    asset_id="NOPE")  # fmt: skip
    assert unlinked.status_code == 404
