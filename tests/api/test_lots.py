"""Lots through the API: the listing as of now, void-hold, lot selection on hold and release, the
release matrix, the expiry schedule and the asset's spending order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from engine.store.db import database_proxy, utcnow, write_transaction
from engine.store.ledger import movements
from engine.store.ledger.journal import Ledger
from engine.store.ledger.movements import Entity
from engine.store.ledger.verify import verify
from engine.store.models import Asset, LotRecord, Participant, WebhookMessage
from engine.store.sweeps import settle_due_lots

from .conftest import Api, create_program


@pytest.fixture
def program(api: Api) -> str:
    program = create_program(api, "Air")["id"]
    body = {"program_id": program, "name": "Miles", "symbol": "MILES", "scale": 0, "inventory_mode": "LOT"}
    assert api.post("/v1/assets", body).status_code == 201
    return program


@pytest.fixture
def person(api: Api, program: str) -> dict:
    response = api.post("/v1/participants", {"external_id": "flyer", "program_id": program})
    assert response.status_code == 201
    return response.json()


def credit(program: str, person: dict, amount: int, *, earned: datetime, **fields) -> None:
    """A credit of MILES made as a rule makes it (the API's adjust has no dates)."""
    with database_proxy.connection_context(), write_transaction():
        asset = Asset.get(Asset.symbol == "MILES")
        ledger = Ledger(Participant.get_by_id(person["id"]).organisation_id)
        entity = Entity("PARTICIPANT", person["id"])
        movements.credit(ledger, asset, program, entity, Decimal(amount), as_of=earned, description="t", **fields)
        ledger.finish()


def lots(api: Api, person: dict, **filters) -> list[tuple[str, str, str]]:
    response = api.get(f"/v1/participants/{person['id']}/balances/lots", asset_id="MILES", **filters)
    assert response.status_code == 200, response.text
    return [(lot["amount"], lot["remaining"], lot["status"]) for lot in response.json()["data"]]


def balance(api: Api, person: dict) -> dict:
    (found,) = api.get(f"/v1/participants/{person['id']}/balances").json()["data"]
    return {bucket: found[bucket] for bucket in ("available", "held", "deferred")}


def op(api: Api, person: dict, program: str, operation: str, **fields):
    body = {"program_id": program, "asset_id": "MILES", "description": "desk", **fields}
    return api.post(f"/v1/participants/{person['id']}/balances/{operation}", body)


def test_lots_and_balances_leave_out_expired_value_before_any_sweep(api, program, person):
    now = utcnow()
    # Each credit settles what is due at its own time, so the lot earned longest ago comes last:
    # it is past its expiry now, and nothing has settled it.
    credit(program, person, 40, earned=now - timedelta(days=10), expires_at=now + timedelta(days=355))
    credit(program, person, 5, earned=now - timedelta(days=2), matures_at=now - timedelta(hours=1))
    credit(program, person, 100, earned=now - timedelta(days=400), expires_at=now - timedelta(days=35))
    with database_proxy.connection_context():
        assert LotRecord.select().where(LotRecord.status == "EXPIRED").count() == 0
    assert lots(api, person) == [("40", "40", "AVAILABLE"), ("5", "5", "AVAILABLE"), ("100", "0", "EXPIRED")]
    assert balance(api, person) == {"available": "45", "held": "0", "deferred": "0"}
    assert lots(api, person, status="EXPIRED") == [("100", "0", "EXPIRED")]
    assert lots(api, person, status="AVAILABLE") == [("40", "40", "AVAILABLE"), ("5", "5", "AVAILABLE")]
    with database_proxy.connection_context():
        swept = settle_due_lots(utcnow())
        assert sorted((s.kind, s.amount) for s in swept.settled) == [("EXPIRED", Decimal(100)), ("MATURED", Decimal(5))]
        assert settle_due_lots(utcnow()).settled == []  # once
        assert verify().ok
    assert balance(api, person) == {"available": "45", "held": "0", "deferred": "0"}


def test_void_hold_cancels_only_the_provisional_lots_of_the_reference(api, program, person):
    now = utcnow()
    credit(program, person, 50, earned=now - timedelta(days=1))
    credit(program, person, 30, earned=now, bucket="HELD", reference_id="auth-1")
    assert op(api, person, program, "hold", amount="20", reference_id="auth-1").status_code == 200
    response = api.post(
        f"/v1/participants/{person['id']}/balances/void-hold",
        {"program_id": program, "asset_id": "MILES", "description": "reversed", "reference_id": "auth-1"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["operation"], body["amount_processed"]) == ("VOID_HOLD", "30")
    assert [lot["amount"] for lot in body["lots_processed"]] == ["30"]
    assert balance(api, person) == {"available": "30", "held": "20", "deferred": "0"}
    again = api.post(
        f"/v1/participants/{person['id']}/balances/void-hold",
        {"program_id": program, "asset_id": "MILES", "description": "again", "reference_id": "auth-1"},
    )
    assert (again.status_code, again.json()["code"]) == (422, "hold_not_found")
    with database_proxy.connection_context():
        assert verify().ok


def test_void_hold_takes_the_shared_body_and_ignores_amount_and_lot_selection(api, program, person):
    credit(program, person, 12, earned=utcnow(), bucket="HELD", reference_id="auth-3")
    body = {"program_id": program, "asset_id": "MILES", "description": "void", "reference_id": "auth-3",
            "amount": "1", "bucket": "AVAILABLE", "earned_from": "2020-01-01T00:00:00Z"}  # fmt: skip
    response = api.post(f"/v1/participants/{person['id']}/balances/void-hold", body)
    assert response.status_code == 200, response.text
    assert response.json()["amount_processed"] == "12"


def test_void_hold_is_allowed_on_a_closed_participant_and_refused_on_a_simple_asset(api, program, person):
    credit(program, person, 8, earned=utcnow(), bucket="HELD", reference_id="auth-2")
    assert api.patch(f"/v1/participants/{person['id']}/status", {"status": "CLOSED"}).status_code == 200
    body = {"program_id": program, "asset_id": "MILES", "description": "void", "reference_id": "auth-2"}
    assert api.post(f"/v1/participants/{person['id']}/balances/void-hold", body).status_code == 200
    api.post("/v1/assets", {"program_id": program, "name": "Cash", "symbol": "CASH", "scale": 2})
    simple = api.post(f"/v1/participants/{person['id']}/balances/void-hold", {**body, "asset_id": "CASH"})
    assert (simple.status_code, simple.json()["code"]) == (400, "bad_request")


def test_release_follows_the_matrix_and_hold_selects_lots(api, program, person):
    now = utcnow()
    credit(program, person, 10, earned=now - timedelta(days=3))
    credit(program, person, 20, earned=now - timedelta(days=2))
    credit(program, person, 30, earned=now - timedelta(days=1))
    early = api.get(f"/v1/participants/{person['id']}/balances/lots", asset_id="MILES").json()["data"]
    held = op(api, person, program, "hold", reference_id="r1", lot_ids=[early[1]["id"]]).json()
    assert (held["amount_processed"], [lot["amount"] for lot in held["lots_processed"]]) == ("20", ["20"])
    window = op(
        api, person, program, "hold", reference_id="r2", earned_to=(now - timedelta(days=2, hours=12)).isoformat()
    )
    assert window.json()["amount_processed"] == "10"
    released = op(api, person, program, "release", reference_id="r1").json()  # no amount: all of r1
    assert released["amount_processed"] == "20"
    assert balance(api, person) == {"available": "50", "held": "10", "deferred": "0"}
    part = op(api, person, program, "release", amount="4").json()  # amount only: any held lots, FIFO
    assert part["amount_processed"] == "4"
    bad = op(api, person, program, "hold", earned_from=now.isoformat(), earned_to=(now - timedelta(days=1)).isoformat())
    assert (bad.status_code, bad.json()["code"]) == (400, "bad_request")
    with database_proxy.connection_context():
        assert verify().ok


def test_release_by_reference_without_an_amount_takes_only_that_references_share(api):
    """Regression: on a SIMPLE asset, release (and forfeit of HELD) with a reference and no amount
    took the whole HELD bucket, every other reference's hold included."""
    program = create_program(api, "Coffee", points_scale=0)["id"]
    person = api.post("/v1/participants", {"external_id": "u1", "program_id": program}).json()
    assert op(api, person, program, "hold", asset_id="PTS").status_code == 422  # nothing to hold yet
    api.post(
        f"/v1/participants/{person['id']}/balances/adjust",
        {"program_id": program, "asset_id": "PTS", "type": "CREDIT", "amount": "100", "description": "seed"},
    )
    op(api, person, program, "hold", asset_id="PTS", amount="30", reference_id="r1")
    op(api, person, program, "hold", asset_id="PTS", amount="20", reference_id="r2")
    released = op(api, person, program, "release", asset_id="PTS", reference_id="r1").json()
    assert released["amount_processed"] == "30"
    forfeited = op(api, person, program, "forfeit", asset_id="PTS", reference_id="r2", bucket="HELD").json()
    assert forfeited["amount_processed"] == "20"
    (left,) = api.get(f"/v1/participants/{person['id']}/balances").json()["data"]
    assert (left["available"], left["held"]) == ("80", "0")


def test_the_expiry_schedule_sums_value_by_month(api, program, person):
    now = utcnow()
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    credit(program, person, 10, earned=now, expires_at=start + timedelta(days=40))
    credit(program, person, 15, earned=now, expires_at=start + timedelta(days=45))
    credit(program, person, 99, earned=now, expires_at=start + timedelta(days=800))  # beyond twelve months
    credit(program, person, 7, earned=now - timedelta(days=60), expires_at=now - timedelta(days=1))  # not swept
    response = api.get(f"/v1/programs/{program}/expiry-schedule", asset_id="MILES")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["overdue"] == "7"
    assert len(body["months"]) == 12
    assert body["months"][1]["amount"] == "25"
    assert sum(Decimal(month["amount"]) for month in body["months"]) == 25


def test_lot_routes_refuse_simple_assets_and_others_programs(api, other_api, program, person):
    api.post("/v1/assets", {"program_id": program, "name": "Cash", "symbol": "CASH", "scale": 2})
    simple = api.get(f"/v1/participants/{person['id']}/balances/lots", asset_id="CASH")
    assert (simple.status_code, simple.json()["code"]) == (400, "bad_request")
    assert api.get(f"/v1/participants/{person['id']}/balances/lots").status_code == 400  # asset_id is required
    assert other_api.get(f"/v1/participants/{person['id']}/balances/lots", asset_id="MILES").status_code == 404
    assert other_api.get(f"/v1/programs/{program}/expiry-schedule", asset_id="MILES").status_code == 404


def test_the_spending_order_is_set_at_creation_and_may_change(api, program):
    created = api.post(
        "/v1/assets",
        {
            "program_id": program,
            "name": "Stars",
            "symbol": "STARS",
            "scale": 0,
            "inventory_mode": "LOT",
            "spending_order": "EXPIRING_FIRST",
        },
    ).json()
    assert created["spending_order"] == "EXPIRING_FIRST"
    patched = api.patch(f"/v1/assets/{created['id']}", {"spending_order": "FIFO"}).json()
    assert patched["spending_order"] == "FIFO"
    with database_proxy.connection_context():
        assert LotRecord.select().count() == 0


def test_an_event_through_the_worker_expires_due_lots_before_its_rules_and_says_so(immediate_api):
    api = immediate_api
    air = create_program(api, "Air")["id"]
    body = {"program_id": air, "name": "Miles", "symbol": "MILES", "scale": 0, "inventory_mode": "LOT"}
    assert api.post("/v1/assets", body).status_code == 201
    flyer = api.post("/v1/participants", {"external_id": "flyer", "program_id": air}).json()
    hook = {"url": "https://hooks.example.com/a", "enabled_events": ["balance.expired", "balance.debited"]}
    assert api.post("/v1/webhook-endpoints", hook).status_code == 201
    rule = {
        "program_id": air,
        "name": "redeem",
        "condition": "event.type == 'redeem'",
        "actions": [{"type": "DEBIT", "asset_id": "MILES", "amount": "event.miles"}],
    }
    assert api.post("/v1/rules", rule).status_code == 201
    now = utcnow()
    credit(air, flyer, 30, earned=now - timedelta(days=400), expires_at=now - timedelta(days=1))
    credit(air, flyer, 20, earned=now - timedelta(days=10))

    def redeem(key: str, miles: int) -> dict:
        event = {"program_id": air, "external_id": "flyer", "idempotency_key": key, "event_timestamp": now.isoformat()}
        created = api.post("/v1/events", {**event, "event_data": {"type": "redeem", "miles": miles}}).json()
        return api.get(f"/v1/events/{created['id']}").json()

    refused = redeem("r-1", 25)  # 50 on the books, 20 unexpired
    assert refused["status"] == "FAILED" and "20 available, 25 needed" in refused["error_message"]
    spent = redeem("r-2", 15)
    assert spent["status"] == "COMPLETED", spent
    assert lots(api, flyer) == [("30", "0", "EXPIRED"), ("20", "5", "AVAILABLE")]
    with database_proxy.connection_context():
        sent = [(row.type, row.payload["data"].get("amount")) for row in WebhookMessage.select()]
        assert sorted(sent) == [("balance.debited", "15"), ("balance.expired", "30")]
        assert verify().ok
