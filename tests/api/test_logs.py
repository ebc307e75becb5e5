"""/v1/logs and /v1/usage: every authenticated request logged with a `req_` id in its response,
bodies kept with secrets redacted, Scrip's filters, per-organisation, and daily usage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.app import ApiSettings, create_app
from api.request_log import request_id_of
from engine.store.db import database_proxy
from engine.store.models import RequestLog
from engine.store.request_logs import write_request_logs


def test_a_request_has_an_id_header_and_a_log_with_redacted_bodies(api):
    created = api.post("/v1/webhook-endpoints", {"url": "https://example.com/hook", "enabled_events": ["*"]})
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    request_id = created.headers["x-request-id"]
    assert request_id.startswith("req_") and len(request_id) == 30
    (row,) = api.get("/v1/logs", method="POST").json()["data"]
    assert (row["request_id"], row["status_code"], row["route_pattern"]) == (
        request_id,
        201,
        "/v1/webhook-endpoints",
    )
    assert row["auth_type"] == "api_key" and row["duration_ms"] > 0 and "request_body" not in row
    detail = api.get(f"/v1/logs/{row['id']}").json()
    assert detail == api.get(f"/v1/logs/{request_id}").json()
    assert '"url":"https://example.com/hook"' in detail["request_body"]
    assert secret not in detail["response_body"] and '"secret":"[REDACTED]"' in detail["response_body"]
    assert api.key not in str(detail) and detail["user_agent"] and detail["ip_address"]


def test_an_api_key_in_a_body_is_redacted(api):
    body = {"name": "Club", "description": f"paste {api.key} by mistake"}
    assert api.post("/v1/programs", body).status_code == 201
    (row,) = api.get("/v1/logs", route_pattern="/v1/programs", method="post").json()["data"]
    logged = api.get(f"/v1/logs/{row['id']}").json()
    assert api.key not in logged["request_body"] and api.key not in logged["response_body"]
    assert "[REDACTED]" in logged["request_body"]


def test_errors_carry_their_code_and_filters_narrow_the_list(api, program):
    api.get("/v1/participants/00000000-0000-7000-8000-000000000000")
    api.get("/v1/events", status="NOPE")
    api.get("/v1/programs")
    failures = api.get("/v1/logs", status_min=400).json()["data"]
    assert [(r["status_code"], r["error_code"]) for r in failures] == [(400, "bad_request"), (404, "not_found")]
    assert api.get("/v1/logs", status_min=404, status_max=404).json()["data"][0]["route_pattern"] == (
        "/v1/participants/{participant_id}"
    )
    by_status = api.get("/v1/logs", sort_by="status_code", sort_dir="asc").json()["data"]
    assert [r["status_code"] for r in by_status] == sorted(r["status_code"] for r in by_status)
    request_id = failures[0]["request_id"]
    assert api.get("/v1/logs", request_id=request_id.removeprefix("req_")).json()["data"][0]["id"] == failures[0]["id"]
    assert api.get("/v1/logs", auth_type="jwt").json()["data"] == []
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert api.get("/v1/logs", **{"from": future}).json()["data"] == []


def test_pages_walk_every_log_once(api):
    for _ in range(5):
        api.get("/v1/programs")
    first = api.get("/v1/logs", limit=2).json()
    second = api.get("/v1/logs", limit=2, cursor=first["pagination"]["next_cursor"]).json()
    ids = [r["id"] for r in first["data"] + second["data"]]
    assert len(set(ids)) == 4 and ids == sorted(ids, reverse=True)


def test_request_ids_are_made_from_the_log_ids_and_sort_as_they_do(api):
    """Time-ordered request ids keep the request-id index growing at its end (A267); an id of the
    older random shape is still found by the index."""
    request_ids = [api.get("/v1/programs").headers["x-request-id"] for _ in range(3)]
    rows = api.get("/v1/logs", sort_dir="asc").json()["data"]
    assert [row["request_id"] for row in rows] == request_ids == sorted(request_ids)
    assert [request_id_of(row["id"]) for row in rows] == request_ids
    older = {**_row(api.org_id(), DAY, 200, 1.0, 0), "request_id": "req_" + "z7" * 13}
    with database_proxy.connection_context():
        write_request_logs([older])
    assert api.get(f"/v1/logs/{older['request_id']}").json()["id"] == older["id"]


def test_logs_are_per_organisation_and_not_logged_themselves(api, other_api):
    api.get("/v1/programs")
    mine = api.get("/v1/logs").json()["data"]
    assert [r["route_pattern"] for r in mine] == ["/v1/programs"]
    assert other_api.get("/v1/logs").json()["data"] == []
    assert other_api.get(f"/v1/logs/{mine[0]['id']}").status_code == 404
    assert api.get("/v1/logs/req_unknown").json()["code"] == "not_found"


def test_unauthenticated_and_public_requests_are_not_logged(api, client):
    assert client.get("/v1/programs").status_code == 401
    assert client.get("/v1/health").status_code == 200
    assert api.get("/v1/logs").json()["data"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status_min": "500", "status_max": "400"}, "status_min"),
        ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"sort_by": "path"}, "sort_by"),
    ],
)
def test_bad_filters_are_400s(api, params, field):
    response = api.get("/v1/logs", **params)
    assert response.status_code == 400 and response.json()["code"] == "bad_request", response.text


def test_usage_counts_requests_errors_and_latency_per_day(api):
    org = api.org_id()
    rows = [
        _row(org, day, status, ms, n)
        for n, (day, status, ms) in enumerate([(DAY, 200, 10.0), (DAY, 404, 20.0), (DAY + timedelta(days=1), 500, 4.0)])
    ]
    with database_proxy.connection_context():
        write_request_logs(rows)
    body = api.get("/v1/usage", **{"from": "2026-03-01T00:00:00Z", "to": "2026-03-03T00:00:00Z"}).json()
    assert [(d["date"], d["total_requests"], d["error_count"], d["avg_latency_ms"]) for d in body["data"]] == [
        ("2026-03-01", 2, 1, 15.0),
        ("2026-03-02", 1, 1, 4.0),
    ]
    assert (body["total_requests"], body["error_count"], body["avg_latency_ms"]) == (3, 2, 11.333)
    assert api.get("/v1/usage").json()["total_requests"] == 0  # the last 30 days: these are older


def test_request_logs_can_be_switched_off(database):
    from litestar.testing import TestClient

    from api.keys import create_key

    with TestClient(app=create_app(database, settings=ApiSettings(queue_url="sql", request_logs=False))) as client:
        key = create_key("acme")
        response = client.get("/v1/programs", headers={"X-API-Key": key})
        assert response.headers["x-request-id"].startswith("req_")
        assert client.get("/v1/logs", headers={"X-API-Key": key}).json()["data"] == []
    with database_proxy.connection_context():
        assert RequestLog.select().count() == 0


DAY = datetime(2026, 3, 1, 9, tzinfo=UTC)


def _row(org: str, day: datetime, status: int, ms: float, n: int) -> dict:
    return {
        "organisation": org,
        "request_id": f"req_{n}",
        "method": "GET",
        "path": "/v1/programs",
        "status_code": status,
        "duration_ms": ms,
        "id": _id_at(day, n),
        "created_at": day,
    }


def _id_at(moment: datetime, n: int) -> str:
    from tests.engine.store.reports.ledger_history import id_at

    return id_at(moment + timedelta(seconds=n))
