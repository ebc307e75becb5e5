"""The member statement (`GET /v1/participants/{id}/activity/history`): every movement of the
participant's buckets, newest first, signed, with the event's timestamp for what an event made;
its filters and pages."""

from __future__ import annotations

from .conftest import Api, create_program
from .test_events import event


def history(api: Api, person_id: str, **filters) -> list[dict]:
    response = api.get(f"/v1/participants/{person_id}/activity/history", **filters)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_a_statement_shows_earning_spending_holds_and_refunds(immediate_api: Api):
    api = immediate_api
    program = create_program(api, points_scale=0)["id"]
    rule = {"program_id": program, "name": "points", "condition": "event.amount > 1.0",
            "actions": [{"type": "CREDIT", "asset_id": "PTS", "amount": "event.amount * 10.0"}]}  # fmt: skip
    assert api.post("/v1/rules", rule).status_code == 201
    made = api.post("/v1/events", event(program, event_data={"amount": 4.0})).json()
    person = api.get(f"/v1/events/{made['id']}").json()["participant_id"]
    base = {"program_id": program, "asset_id": "PTS"}
    spent = api.post(f"/v1/participants/{person}/redemptions", {**base, "amount": "15", "description": "mug"}).json()
    assert api.post(f"/v1/redemptions/{spent['id']}/reverse", {"reason": "broken"}).status_code == 201
    held = {**base, "amount": "5", "description": "order", "reference_id": "o-1"}
    assert api.post(f"/v1/participants/{person}/balances/hold", held).status_code == 200

    lines = history(api, person)
    assert [(line["action_type"], line["bucket"], line["amount"]) for line in lines] == [
        ("HOLD", "HELD", "5"),
        ("HOLD", "AVAILABLE", "-5"),
        ("REVERSAL", "AVAILABLE", "15"),
        ("REDEMPTION", "AVAILABLE", "-15"),
        ("CREDIT", "AVAILABLE", "40"),
    ]
    earned = lines[-1]
    assert (earned["event_id"], earned["event_timestamp"], earned["asset_symbol"]) == (
        made["id"],
        "2026-01-01T12:00:00Z",
        "PTS",
    )
    assert (lines[2]["description"], lines[3]["reference_id"]) == ("broken", spent["id"])
    assert [line["action_type"] for line in history(api, person, bucket="HELD")] == ["HOLD"]
    assert [line["amount"] for line in history(api, person, event_from="2026-01-01T00:00:00Z")] == ["40"]
    assert history(api, person, asset_id="OTHER") == []
    assert len(history(api, person, to="2000-01-01T00:00:00Z")) == 0
    first = api.get(f"/v1/participants/{person}/activity/history", limit=2).json()
    rest = api.get(f"/v1/participants/{person}/activity/history", cursor=first["pagination"]["next_cursor"]).json()
    assert first["data"] + rest["data"] == lines


def test_bad_filters_and_other_organisations(api: Api, other_api: Api, program: str):
    person = api.post("/v1/participants", {"external_id": "ada", "program_id": program}).json()["id"]
    path = f"/v1/participants/{person}/activity/history"
    assert api.get(path).json()["data"] == []
    bad = api.get(path, **{"from": "1700000000"})
    assert bad.status_code == 400 and bad.json()["details"]["field"] == "from"
    empty = api.get(path, event_from="2026-02-01T00:00:00Z", event_to="2026-01-01T00:00:00Z")
    assert empty.status_code == 400
    assert api.get(path, bucket="SOMEWHERE").status_code == 400
    assert other_api.get(path).status_code == 404
