"""Durable idempotent ingest against a real server: concurrent duplicates make one event."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from litestar.testing import TestClient

from api.app import ApiSettings, create_app
from api.ingest import differing_fields, normalised_payload, payload_hash
from api.keys import create_key
from api.schemas.events import EventIngest
from engine.queue import create_queue_tables, reset_queue
from engine.store.db import connect, database_proxy
from engine.store.migrations import upgrade
from engine.store.models import EventRecord
from tests.api.conftest import Api, create_program
from tests.databases import close_database, empty_database_url


def ingest(**overrides) -> EventIngest:
    fields = {
        "program_id": "p",
        "idempotency_key": "k",
        "external_id": "u",
        "event_timestamp": datetime(2026, 1, 1, 12, tzinfo=UTC),
        "event_data": {"a": 1.50, "b": [1.0, {"c": 2}]},
    }
    fields.update(overrides)
    return EventIngest(**fields)


def test_hash_ignores_key_order_trailing_zeros_and_offsets():
    from datetime import timedelta, timezone

    a = ingest()
    b = ingest(
        event_data={"b": [1, {"c": 2.0}], "a": 1.5},
        event_timestamp=datetime(2026, 1, 1, 13, tzinfo=timezone(timedelta(hours=1))),
    )
    assert payload_hash(normalised_payload(a)) == payload_hash(normalised_payload(b))
    assert payload_hash(normalised_payload(a)) != payload_hash(normalised_payload(ingest(event_data={"a": 1.51})))
    assert payload_hash(normalised_payload(a)) != payload_hash(normalised_payload(ingest(external_id="v")))


def test_differing_fields_names_event_data_keys():
    old = normalised_payload(ingest())
    new = normalised_payload(ingest(external_id="v", event_data={"a": 1.5, "d": True}))
    assert differing_fields(old, new) == ["external_id", "event_data.b", "event_data.d"]


@pytest.mark.postgres
def test_one_process_ingests_on_sqlite_then_on_postgresql(tmp_path):
    """The statements ingest builds once are built for the bound database's parameter style, so a
    process that serves one database and then another (as a test session may) ingests on both."""
    for backend in ("sqlite", "postgres"):
        reset_queue()
        db = connect(empty_database_url(backend, tmp_path))
        try:
            upgrade(db)
            create_queue_tables(db)
            with TestClient(app=create_app(db, settings=ApiSettings(key_cache_ttl_s=0.0, queue_url="sql"))) as client:
                api = Api(client, create_key("acme"), "acme")
                body = {
                    "program_id": create_program(api)["id"],
                    "external_id": "u1",
                    "idempotency_key": f"on-{backend}",
                    "event_timestamp": "2026-01-01T12:00:00Z",
                    "event_data": {"amount": 5},
                }
                first, replay = api.post("/v1/events", body), api.post("/v1/events", body)
                assert first.status_code == 202, (backend, first.text)
                assert replay.status_code == 202 and replay.json()["id"] == first.json()["id"], (backend, replay.text)
        finally:
            close_database(db)
            reset_queue()


@pytest.mark.slow
def test_fifty_concurrent_identical_requests_create_one_event(live_server):
    body = {
        "program_id": live_server.program_id,
        "external_id": "racer",
        "idempotency_key": "race-1",
        "event_timestamp": "2026-01-01T12:00:00Z",
        "event_data": {"amount": 5},
    }

    def send(_: int) -> httpx.Response:
        return httpx.post(f"{live_server.url}/v1/events", json=body, headers={"X-API-Key": live_server.key}, timeout=60)

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(send, range(50)))
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["id"] for r in responses}) == 1
    with database_proxy.connection_context():
        assert EventRecord.select().where(EventRecord.idempotency_key == "race-1").count() == 1
        queued = database_proxy.execute_sql("select count(*) from task").fetchone()[0]
    assert queued >= 1


@pytest.mark.slow
def test_pagination_visits_every_event_once_under_concurrent_inserts(live_server):
    headers = {"X-API-Key": live_server.key}

    def post(key: str) -> None:
        body = {
            "program_id": live_server.program_id,
            "external_id": "pager",
            "idempotency_key": key,
            "event_timestamp": "2026-01-01T12:00:00Z",
            "event_data": {},
        }
        assert httpx.post(f"{live_server.url}/v1/events", json=body, headers=headers, timeout=60).status_code == 202

    for i in range(30):
        post(f"before-{i}")
    before = {r.id for r in _events_with_prefix("before-")}
    seen: list[str] = []
    cursor = None
    with ThreadPoolExecutor(max_workers=4) as pool:
        inserts = [pool.submit(post, f"during-{i}") for i in range(20)]
        while True:
            params = {"limit": 7, "external_id": "pager", **({"cursor": cursor} if cursor else {})}
            page = httpx.get(f"{live_server.url}/v1/events", params=params, headers=headers, timeout=60).json()
            seen += [e["id"] for e in page["data"]]
            cursor = page["pagination"]["next_cursor"]
            if not cursor:
                break
        for future in inserts:
            future.result()
    assert len(seen) == len(set(seen))
    assert before <= set(seen)


def _events_with_prefix(prefix: str) -> list[EventRecord]:
    with database_proxy.connection_context():
        return list(EventRecord.select().where(EventRecord.idempotency_key.startswith(prefix)))
