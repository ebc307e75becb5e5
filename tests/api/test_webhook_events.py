"""Webhook events of direct API changes: one delivery per change, in the change's transaction."""

from __future__ import annotations

import pytest

from api import webhook_events
from engine.store.db import database_proxy
from engine.store.models import WebhookDelivery, WebhookMessage

from .conftest import Api, create_program, decode

HOOK = "https://hooks.example.com/accrual"  # public-looking and never called: no sender runs here


def subscribe(api: Api, *types: str) -> str:
    response = api.post("/v1/webhook-endpoints", {"url": HOOK, "enabled_events": list(types)})
    assert response.status_code == 201, response.text
    return decode(response)["id"]


def deliveries() -> list[tuple[str, str, dict]]:
    """(endpoint id, type, envelope) of every delivery, oldest first."""
    with database_proxy.connection_context():
        rows = (
            WebhookDelivery.select(WebhookDelivery, WebhookMessage)
            .join(WebhookMessage)
            .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
        )
        return [(row.endpoint_id, row.event_type, row.message.payload) for row in rows]


@pytest.fixture
def person(api, program) -> dict:
    response = api.post("/v1/participants", {"external_id": "u1", "program_id": program})
    assert response.status_code == 201
    return response.json()


def operate(api: Api, person: dict, program: str, operation: str, **fields):
    body = {"program_id": program, "asset_id": "PTS", "description": "desk", **fields}
    return api.post(f"/v1/participants/{person['id']}/balances/{operation}", body)


def test_participant_created_once_and_not_for_an_update(api, program):
    endpoint = subscribe(api, "participant.created")
    created = api.post("/v1/participants", {"external_id": "u9", "program_id": program})
    assert created.status_code == 201
    again = api.post("/v1/participants", {"external_id": "u9", "first_name": "Ada", "tags": ["gold"]})
    assert again.status_code == 200
    sent = deliveries()
    assert [(e, t) for e, t, _ in sent] == [(endpoint, "participant.created")]
    envelope = sent[0][2]
    assert envelope["type"] == "participant.created" and envelope["organization_id"] == api.org_id()
    assert envelope["data"] == {"participant_id": created.json()["id"], "external_id": "u9", "program_id": program}


def test_participant_created_without_a_program_and_failed_upsert_publishes_nothing(api, other_api):
    subscribe(api, "participant.created")
    foreign = create_program(other_api, "Theirs")["id"]
    assert api.post("/v1/participants", {"external_id": "lost", "program_id": foreign}).status_code == 404
    assert deliveries() == []
    api.post("/v1/participants", {"external_id": "bare"})
    [(_, _, envelope)] = deliveries()
    assert envelope["data"] == {"participant_id": envelope["data"]["participant_id"], "external_id": "bare"}


def test_adjust_credit_and_debit(api, program, person):
    subscribe(api, "balance.*")
    credit = operate(api, person, program, "adjust", type="CREDIT", amount="100")
    debit = operate(api, person, program, "adjust", type="DEBIT", amount="40")
    assert credit.status_code == debit.status_code == 200
    sent = deliveries()
    assert [t for _, t, _ in sent] == ["balance.credited", "balance.debited"]
    expected = {
        "program_id": program,
        "asset": "PTS",
        "bucket": "AVAILABLE",
        "description": "desk",
        "participant_id": person["id"],
        "external_id": "u1",
    }
    assert sent[0][2]["data"] == {**expected, "amount": "100.00"}
    assert sent[1][2]["data"] == {**expected, "amount": "40.00"}


def test_hold_and_release_and_their_replays(api, program, person):
    subscribe(api, "balance.held", "balance.released")
    operate(api, person, program, "adjust", type="CREDIT", amount="100")
    held = operate(api, person, program, "hold", amount="30", idempotency_key="h1", reference_id="order-7")
    replay = operate(api, person, program, "hold", amount="30", idempotency_key="h1", reference_id="order-7")
    assert held.status_code == replay.status_code == 200
    assert replay.json()["journal_entry_id"] == held.json()["journal_entry_id"]
    released = operate(api, person, program, "release", idempotency_key="r1")  # the whole HELD balance
    assert operate(api, person, program, "release", idempotency_key="r1").json() == released.json()
    sent = deliveries()
    assert [t for _, t, _ in sent] == ["balance.held", "balance.released"]
    base = {
        "program_id": program,
        "asset": "PTS",
        "description": "desk",
        "participant_id": person["id"],
        "external_id": "u1",
        "amount": "30.00",
    }
    assert sent[0][2]["data"] == {**base, "bucket": "HELD", "reference_id": "order-7"}
    assert sent[1][2]["data"] == {**base, "bucket": "AVAILABLE"}


def test_rolled_back_operations_and_forfeit_publish_nothing(api, program, person):
    subscribe(api, "*")
    before = deliveries()
    too_much = operate(api, person, program, "adjust", type="DEBIT", amount="1")
    assert too_much.status_code == 422 and too_much.json()["code"] == "insufficient_funds"
    assert operate(api, person, program, "hold").status_code == 422  # nothing AVAILABLE to hold
    assert operate(api, person, program, "release", amount="5").status_code == 422
    assert operate(api, person, program, "adjust", type="CREDIT", amount="1.001").status_code == 400
    assert deliveries() == before == []
    operate(api, person, program, "adjust", type="CREDIT", amount="5")
    assert operate(api, person, program, "forfeit", bucket="AVAILABLE").status_code == 200
    assert [t for _, t, _ in deliveries()] == ["balance.credited"]


def test_fund_and_burn(api, program):
    subscribe(api, "program.*")
    api.post(
        "/v1/assets",
        {"program_id": program, "name": "Cash", "symbol": "CSH", "scale": 2, "issuance_policy": "PREFUNDED"},
    )
    funded = api.post(f"/v1/programs/{program}/assets/CSH/fund", {"amount": "100", "description": "seed"})
    burned = api.post(f"/v1/programs/{program}/assets/CSH/burn", {"amount": "40"})
    over = api.post(f"/v1/programs/{program}/assets/CSH/burn", {"amount": "61"})
    assert (funded.status_code, burned.status_code, over.status_code) == (200, 200, 422)
    sent = deliveries()
    assert [t for _, t, _ in sent] == ["program.funded", "program.burned"]
    assert sent[0][2]["data"] == {
        "program_id": program,
        "asset": "CSH",
        "amount": "100.00",
        "description": "seed",
        "journal_entry_id": funded.json()["journal_entry_id"],
        "available": "100.00",
        "program_wallet": True,
    }
    assert sent[1][2]["data"] == {
        "program_id": program,
        "asset": "CSH",
        "amount": "40.00",
        "journal_entry_id": burned.json()["journal_entry_id"],
        "available": "60.00",
        "program_wallet": True,
    }


def test_each_subscribed_endpoint_gets_one_delivery_of_one_message(api, other_api, program, person):
    credits = subscribe(api, "balance.credited")
    everything = subscribe(api, "*")
    subscribe(api, "participant.created", "program.*")  # other types: gets nothing
    subscribe(other_api, "*")  # another organisation: gets nothing
    operate(api, person, program, "adjust", type="CREDIT", amount="3")
    sent = deliveries()
    assert sorted(e for e, _, _ in sent) == sorted([credits, everything])
    assert sent[0][2] == sent[1][2] and sent[0][2]["type"] == "balance.credited"


def test_no_subscribed_endpoint_writes_nothing(api, program, person):
    operate(api, person, program, "adjust", type="CREDIT", amount="3")
    with database_proxy.connection_context():
        assert WebhookMessage.select().count() == 0


def test_publisher_uses_the_worker_delivery_budget(api, program, person):
    subscribe(api, "balance.credited")
    operate(api, person, program, "adjust", type="CREDIT", amount="3")
    with database_proxy.connection_context():
        assert WebhookDelivery.get().max_attempts == webhook_events.max_attempts() == 8


def test_a_failure_after_publishing_rolls_back_the_change_and_its_webhook(api, program, person, monkeypatch):
    subscribe(api, "*")
    real_publish = webhook_events.messages.publish

    def publish_then_fail(*args, **kwargs):
        real_publish(*args, **kwargs)
        raise RuntimeError("the transaction must not commit")

    monkeypatch.setattr(webhook_events.messages, "publish", publish_then_fail)
    assert api.post("/v1/participants", {"external_id": "ghost"}).status_code == 500
    assert operate(api, person, program, "adjust", type="CREDIT", amount="7").status_code == 500
    monkeypatch.undo()
    assert deliveries() == []
    assert api.get("/v1/participants", external_id="ghost").json()["data"] == []
    assert api.get(f"/v1/participants/{person['id']}").json()["balances"] == []


def test_tier_changes_through_the_api_and_by_events_send_participant_tier_changed(immediate_api):
    api = immediate_api
    program = create_program(api, "Air", points_scale=0)["id"]
    subscribe(api, "participant.tier_changed")
    levels = [
        {"key": "silver", "rank": 1},
        {
            "key": "gold",
            "rank": 2,
            "qualification": {"criteria": [{"counter": "miles", "operator": ">=", "threshold": 100}]},
        },
    ]
    assert api.post(f"/v1/programs/{program}/tiers", {"key": "status", "levels": levels}).status_code == 201
    rule = {
        "program_id": program,
        "name": "fly",
        "condition": "true",
        "actions": [{"type": "COUNTER", "key": "miles", "value": "event.miles"}],
    }
    assert api.post("/v1/rules", rule).status_code == 201, "rule"
    person = api.post("/v1/participants", {"external_id": "u1", "program_id": program}).json()
    base = f"/v1/participants/{person['id']}/state/tiers/status"
    assert (
        api.client.put(base, params={"program_id": program}, json={"level": "silver"}, headers=api.headers).status_code
        == 200
    )
    assert (
        api.client.put(base, params={"program_id": program}, json={"level": "silver"}, headers=api.headers).status_code
        == 200
    )
    event = {
        "program_id": program,
        "external_id": "u1",
        "idempotency_key": "f1",
        "event_timestamp": "2026-01-01T12:00:00Z",
        "event_data": {"miles": 150},
    }
    assert api.post("/v1/events", event).status_code == 202
    assert api.delete(base, program_id=program).status_code == 204
    sent = [(kind, env["data"]) for _, kind, env in deliveries()]
    assert [kind for kind, _ in sent] == ["participant.tier_changed"] * 3  # the repeated PUT moved nothing
    assert [(d["old_level"], d["new_level"], d["direction"], d["reason"]) for _, d in sent] == [
        (None, "silver", "UP", "API"),
        ("silver", "gold", "UP", "QUALIFICATION"),
        ("gold", None, "REMOVED", "API"),
    ]
    assert sent[1][1]["event_id"] and sent[1][1]["participant_id"] == person["id"] and sent[1][1]["tier"] == "status"


def test_an_event_after_a_period_end_is_judged_after_the_review_it_would_have_waited_for(immediate_api):
    from datetime import timedelta

    from engine.store.db import utcnow
    from engine.store.models import ParticipantTier, StateHistory

    api = immediate_api
    program = create_program(api, "Air", points_scale=0)["id"]
    subscribe(api, "participant.tier_changed")
    lifecycle = {
        "retention": {"mode": "PERIOD_BASED"},
        "qualification_period": {"type": "CALENDAR_YEAR"},
        "downgrade_policy": {"mode": "DROP_ONE"},
        "counters": {"qualifying": ["miles"], "rollover": "NONE"},
    }
    gold = {
        "key": "gold",
        "rank": 2,
        "qualification": {"criteria": [{"counter": "miles", "operator": ">=", "threshold": 100}]},
    }
    tier = {"key": "status", "levels": [{"key": "silver", "rank": 1}, gold], "lifecycle": lifecycle}
    assert api.post(f"/v1/programs/{program}/tiers", tier).status_code == 201
    rule = {"program_id": program, "name": "fly", "condition": "true",
            "actions": [{"type": "COUNTER", "key": "miles", "value": "event.miles"}]}  # fmt: skip
    assert api.post("/v1/rules", rule).status_code == 201
    person = api.post("/v1/participants", {"external_id": "u1", "program_id": program}).json()
    base = f"/v1/participants/{person['id']}/state/tiers/status"
    assert (
        api.client.put(base, params={"program_id": program}, json={"level": "gold"}, headers=api.headers).status_code
        == 200
    )
    api.put(f"/v1/participants/{person['id']}/state/counters/miles", {"value": "40"})
    ended = utcnow() - timedelta(hours=1)  # a period end the scheduler has not reached yet
    with database_proxy.connection_context():
        ParticipantTier.update(period_ends_at=ended, due_at=ended).execute()
    event = {"program_id": program, "external_id": "u1", "idempotency_key": "late",
             "event_timestamp": "2026-01-01T12:00:00Z", "event_data": {"miles": 500}}  # fmt: skip
    created = api.post("/v1/events", event).json()
    assert api.get(f"/v1/events/{created['id']}").json()["status"] == "COMPLETED"
    counter = api.get(f"/v1/participants/{person['id']}/state/counters/miles").json()
    assert counter["value"] == "500"  # the 40 of the period that ended rolled over first; the 500 count now
    level = api.get(base, program_id=program).json()
    assert level["level"] == "gold"  # dropped to silver by the review, earned back by the event's miles
    with database_proxy.connection_context():
        reasons = [
            h.reason for h in StateHistory.select().where(StateHistory.state_type == "tier").order_by(StateHistory.id)
        ]
    assert reasons == ["API", "PERIOD_END", "QUALIFICATION"]
    sent = [env["data"] for _, _, env in deliveries()]
    assert [(d["old_level"], d["new_level"], d["reason"], d.get("event_id")) for d in sent] == [
        (None, "gold", "API", None),
        ("gold", "silver", "PERIOD_END", created["id"]),
        ("silver", "gold", "QUALIFICATION", created["id"]),
    ]
