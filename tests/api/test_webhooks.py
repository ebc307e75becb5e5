"""`/v1/webhook-endpoints` and `/v1/webhook-deliveries` through the real app on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.controllers import CONTROLLERS
from api.controllers.webhooks import WEBHOOK_CONTROLLERS
from api.keys import create_key
from engine.store.db import database_proxy, write_transaction
from engine.store.models import WebhookDelivery, WebhookEndpoint
from engine.webhooks import messages as webhooks
from engine.webhooks import signing

from .conftest import Api, decode

HOOK = "https://hooks.example.com/accrual"


@pytest.fixture
def client(database, settings):
    extra = [c for c in WEBHOOK_CONTROLLERS if c not in CONTROLLERS]  # until the app mounts them itself
    with TestClient(app=create_app(database, settings=settings, route_handlers=extra)) as test_client:
        yield test_client


@pytest.fixture
def api(client) -> Api:
    return Api(client, create_key("acme"), "acme")


@pytest.fixture
def other_api(client) -> Api:
    return Api(client, create_key("globex"), "globex")


def create(api: Api, **fields) -> dict:
    response = api.post("/v1/webhook-endpoints", {"url": HOOK, "enabled_events": ["*"], **fields})
    assert response.status_code == 201, response.text
    return decode(response)


def test_create_answers_the_secret_once(api):
    body = create(api, description="crm", metadata={"team": "growth"}, enabled_events=["balance.*", "event.failed"])
    assert body["secret"].startswith("whsec_") and len(signing.secret_key(body["secret"])) == 32
    assert (body["url"], body["status"], body["enabled_events"]) == (HOOK, "ACTIVE", ["balance.*", "event.failed"])
    shown = decode(api.get(f"/v1/webhook-endpoints/{body['id']}"))
    assert "secret" not in shown and shown["metadata"] == {"team": "growth"}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "http://hooks.example.com/x"}, "url"),
        ({"url": "https://127.0.0.1/x"}, "url"),
        ({"url": "https://metadata.internal/x"}, "url"),
        ({"enabled_events": ["balance.exploded"]}, "enabled_events"),
    ],
)
def test_bad_urls_and_event_types_are_400s(api, fields, field):
    response = api.post("/v1/webhook-endpoints", {"url": HOOK, "enabled_events": ["*"], **fields})
    assert response.status_code == 400
    body = decode(response)
    assert body["code"] == "bad_request" and body["details"]["field"] == field


def test_empty_event_list_and_unknown_fields_are_400s(api):
    assert api.post("/v1/webhook-endpoints", {"url": HOOK, "enabled_events": []}).status_code == 400
    assert api.post("/v1/webhook-endpoints", {"url": HOOK, "enabled_events": ["*"], "x": 1}).status_code == 400


def test_list_is_newest_first_paged_and_filtered(api):
    ids = [create(api)["id"] for _ in range(3)]
    api.patch(f"/v1/webhook-endpoints/{ids[0]}", {"status": "DISABLED"})
    first = decode(api.get("/v1/webhook-endpoints", limit=2))
    assert [e["id"] for e in first["data"]] == ids[:0:-1] and first["pagination"]["has_more"]
    rest = decode(api.get("/v1/webhook-endpoints", limit=2, cursor=first["pagination"]["next_cursor"]))
    assert [e["id"] for e in rest["data"]] == [ids[0]] and not rest["pagination"]["has_more"]
    disabled = decode(api.get("/v1/webhook-endpoints", status="DISABLED"))
    assert [e["id"] for e in disabled["data"]] == [ids[0]]
    assert api.get("/v1/webhook-endpoints", limit=101).status_code == 400


def test_patch_replaces_fields_and_archive_hides_the_endpoint(api):
    endpoint = create(api)
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    patched = decode(api.patch(path, {"enabled_events": ["event.completed"], "metadata": {"a": "b"}}))
    assert patched["enabled_events"] == ["event.completed"] and patched["metadata"] == {"a": "b"}
    assert api.patch(path, {"status": "ARCHIVED"}).status_code == 400
    assert decode(api.delete(path))["status"] == "ARCHIVED"
    assert decode(api.get("/v1/webhook-endpoints"))["data"] == []
    assert api.patch(path, {"description": "x"}).status_code == 404


def test_rotate_secret_invalidates_the_old_one(api):
    endpoint = create(api)
    rotated = decode(api.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret"))
    assert rotated["secret"] != endpoint["secret"]
    with database_proxy.connection_context():
        assert WebhookEndpoint.get_by_id(endpoint["id"]).secret == rotated["secret"]


def test_another_organisations_endpoint_is_not_found(api, other_api):
    endpoint = create(api)
    for response in (
        other_api.get(f"/v1/webhook-endpoints/{endpoint['id']}"),
        other_api.patch(f"/v1/webhook-endpoints/{endpoint['id']}", {"description": "mine"}),
        other_api.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret"),
        other_api.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries"),
    ):
        assert response.status_code == 404 and decode(response)["code"] == "not_found"
    assert decode(other_api.get("/v1/webhook-endpoints"))["data"] == []


def _published_delivery(api: Api, endpoint_id: str, status: str) -> str:
    """A delivery of a published webhook event, then forced into `status`."""
    with database_proxy.connection_context():
        with write_transaction():
            webhooks.publish(api.org_id(), "event.completed", {"id": "evt_1"})
        delivery = WebhookDelivery.get(WebhookDelivery.endpoint == endpoint_id)
        WebhookDelivery.update(status=status, attempt_count=8, error_code="consumer_http_error").where(
            WebhookDelivery.id == delivery.id
        ).execute()
        return delivery.id


def test_deliveries_list_get_retry_and_resend(api):
    endpoint = create(api)
    delivery_id = _published_delivery(api, endpoint["id"], "FAILED")
    (listed,) = decode(api.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries", status="FAILED"))["data"]
    assert (listed["id"], listed["event_type"], listed["attempt_count"]) == (delivery_id, "event.completed", 8)
    detail = decode(api.get(f"/v1/webhook-deliveries/{delivery_id}"))
    assert "last_error" in detail and detail["error_code"] == "consumer_http_error"

    retried = decode(api.post(f"/v1/webhook-deliveries/{delivery_id}/retry"))
    assert (retried["status"], retried["attempt_count"], retried["error_code"]) == ("PENDING", 0, None)
    assert api.post(f"/v1/webhook-deliveries/{delivery_id}/retry").status_code == 404  # not FAILED any more
    conflict = api.post(f"/v1/webhook-deliveries/{delivery_id}/resend")
    assert conflict.status_code == 409 and decode(conflict)["code"] == "not_resendable"

    with database_proxy.connection_context():
        WebhookDelivery.update(status="DELIVERED").execute()
    resent = api.post(f"/v1/webhook-deliveries/{delivery_id}/resend")
    assert resent.status_code == 201
    copy = decode(resent)
    assert copy["id"] != delivery_id and copy["resend_seq"] == 1 and copy["status"] == "PENDING"
    assert copy["webhook_event_id"] == detail["webhook_event_id"]


def test_resend_needs_an_active_endpoint(api):
    endpoint = create(api)
    delivery_id = _published_delivery(api, endpoint["id"], "DELIVERED")
    api.patch(f"/v1/webhook-endpoints/{endpoint['id']}", {"status": "DISABLED"})
    response = api.post(f"/v1/webhook-deliveries/{delivery_id}/resend")
    assert response.status_code == 409 and decode(response)["code"] == "endpoint_not_active"


def test_unknown_delivery_is_a_404(api, other_api):
    endpoint = create(api)
    delivery_id = _published_delivery(api, endpoint["id"], "FAILED")
    assert other_api.get(f"/v1/webhook-deliveries/{delivery_id}").status_code == 404
    assert other_api.post(f"/v1/webhook-deliveries/{delivery_id}/retry").status_code == 404
    assert api.get("/v1/webhook-deliveries/nope").status_code == 404


def test_delivery_stats_is_its_own_route_with_the_circuit_state(api, other_api):
    endpoint = create(api)
    disabled = create(api)
    api.patch(f"/v1/webhook-endpoints/{disabled['id']}", {"status": "DISABLED"})
    _published_delivery(api, endpoint["id"], "PENDING")
    until = datetime.now(UTC) + timedelta(minutes=5)
    with database_proxy.connection_context():
        WebhookEndpoint.update(circuit_broken_until=until, circuit_trips=1).where(
            WebhookEndpoint.id == endpoint["id"]
        ).execute()
    rows = {row["endpoint_id"]: row for row in decode(api.get("/v1/webhook-endpoints/delivery-stats"))["data"]}
    broken, off = rows[endpoint["id"]], rows[disabled["id"]]
    assert (broken["pending_count"], broken["blocked_reason"], broken["degraded"]) == (1, "circuit_broken", True)
    assert broken["blocked_until"] == broken["circuit_broken_until"] and broken["oldest_pending_at"] is not None
    assert (broken["success_24h"], broken["fail_24h"], broken["success_rate"]) == (0, 0, None)
    assert (off["status"], off["blocked_reason"], off["pending_count"]) == ("DISABLED", "endpoint_disabled", 0)
    assert decode(other_api.get("/v1/webhook-endpoints/delivery-stats"))["data"] == []
