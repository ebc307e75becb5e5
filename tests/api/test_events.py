"""POST/GET /v1/events: ingest, idempotency, validation, isolation, list, retry."""

from __future__ import annotations

import pytest

from engine.store.db import database_proxy
from engine.store.models import EventRecord
from tests.api.conftest import create_program

UNKNOWN = "01a243ca-0000-7000-8000-000000000000"  # a UUID no row has


def event(program_id: str, **overrides) -> dict:
    body = {
        "program_id": program_id,
        "external_id": "user_1",
        "idempotency_key": "order-1",
        "event_timestamp": "2026-01-01T12:00:00Z",
        "event_data": {"type": "purchase", "amount": 10.5},
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def program(api) -> str:
    return create_program(api, "Loyalty")["id"]


def test_ingest_answers_202_pending_and_stores_event_and_queue_entry(api, program, database):
    response = api.post("/v1/events", event(program))
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "PENDING"
    assert body["program_id"] == program and body["external_id"] == "user_1"
    assert body["idempotency_key"] == "order-1" and body["participant_id"] is None
    with database_proxy.connection_context():
        assert EventRecord.select().count() == 1
        assert database.execute_sql("select count(*) from task").fetchone()[0] == 1


def test_replay_answers_the_original_event_and_creates_nothing(api, program):
    first = api.post("/v1/events", event(program)).json()
    # Same payload with other key order, a trailing decimal zero and another timestamp notation.
    again = api.post(
        "/v1/events",
        event(program, event_data={"amount": 10.50, "type": "purchase"}, event_timestamp="2026-01-01T13:00:00+01:00"),
    )
    assert again.status_code == 202
    assert again.json() == first
    with database_proxy.connection_context():
        assert EventRecord.select().count() == 1


def test_integral_float_equals_int_for_idempotency(api, program):
    first = api.post("/v1/events", event(program, event_data={"n": 10})).json()
    assert api.post("/v1/events", event(program, event_data={"n": 10.0})).json()["id"] == first["id"]


def test_same_key_different_payload_is_409_naming_the_fields(api, program):
    api.post("/v1/events", event(program))
    response = api.post(
        "/v1/events",
        event(program, event_data={"type": "purchase", "amount": 11}, event_timestamp="2026-01-02T00:00:00Z"),
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "idempotency_conflict"
    assert body["details"]["fields"] == ["event_timestamp", "event_data.amount"]


def test_same_key_in_another_program_is_another_event(api, program):
    other = create_program(api, "Other")["id"]
    a = api.post("/v1/events", event(program)).json()
    b = api.post("/v1/events", event(other)).json()
    assert a["id"] != b["id"]


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"idempotency_key": ""}, "idempotency_key", "invalid"),
        ({"idempotency_key": "k" * 256}, "idempotency_key", "invalid"),
        ({"event_timestamp": "yesterday"}, "event_timestamp", "invalid"),
        ({"event_timestamp": "2026-01-01T12:00:00"}, "event_timestamp", "invalid"),
        ({"event_data": [1, 2]}, "event_data", "invalid"),
        ({"event_data": "x"}, "event_data", "invalid"),
        ({"surprise": 1}, "surprise", "unknown"),
        ({"program_id": 5}, "program_id", "invalid"),
    ],
)
def test_invalid_shapes_are_400_with_field_details(api, program, overrides, field, reason):
    response = api.post("/v1/events", {**event(program), **overrides})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "bad_request"
    assert body["details"]["field"] == field
    assert body["details"]["reason"] == reason
    assert body["details"]["fields"][0]["field"] == field


@pytest.mark.parametrize("missing", ["program_id", "idempotency_key", "event_timestamp", "event_data"])
def test_missing_required_field_is_400_required(api, program, missing):
    body = event(program)
    del body[missing]
    response = api.post("/v1/events", body)
    assert response.status_code == 400
    assert response.json()["details"]["reason"] == "required"
    assert response.json()["details"]["field"] == missing


def test_exactly_one_of_external_id_and_participant_id(api, program):
    neither = api.post("/v1/events", event(program, external_id=None))
    assert neither.status_code == 400 and neither.json()["details"]["reason"] == "required"
    both = api.post("/v1/events", event(program, participant_id=UNKNOWN))
    assert both.status_code == 400 and both.json()["details"]["field"] == "external_id"
    recipients = api.post("/v1/events", event(program, recipient_id=UNKNOWN, recipient_external_id="b"))
    assert recipients.status_code == 400 and recipients.json()["details"]["field"] == "recipient_id"


def test_unknown_and_foreign_programs_are_404(api, other_api, program):
    assert api.post("/v1/events", event(UNKNOWN)).status_code == 404
    response = other_api.post("/v1/events", event(program))
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_unknown_participant_id_is_404(api, program):
    response = api.post("/v1/events", event(program, external_id=None, participant_id=UNKNOWN))
    assert response.status_code == 404
    assert response.json()["details"]["field"] == "participant_id"


def test_malformed_json_wrong_content_type_and_large_bodies(api, program, client):
    headers = {**api.headers, "content-type": "application/json"}
    malformed = client.post("/v1/events", content=b'{"program_id": ', headers=headers)
    assert malformed.status_code == 400 and malformed.json()["code"] == "bad_request"
    as_text = client.post("/v1/events", content=b"{}", headers={**api.headers, "content-type": "text/plain"})
    assert as_text.status_code == 400 and as_text.json()["code"] == "bad_request"
    huge = event(program, event_data={"blob": "x" * (1024 * 1024)})
    too_large = api.post("/v1/events", huge)
    assert too_large.status_code == 413 and too_large.json()["code"] == "payload_too_large"
    not_object = client.post("/v1/events", content=b"[]", headers=headers)
    assert not_object.status_code == 400


def test_batch_reports_each_item_in_order(api, program):
    items = [
        event(program, idempotency_key="b1"),
        event(program, idempotency_key=""),
        event(program, idempotency_key="b1", event_data={"changed": True}),
        event(UNKNOWN, idempotency_key="b3"),
    ]
    response = api.post("/v1/events/batch", {"events": items})
    assert response.status_code == 202
    body = response.json()
    assert (body["total"], body["success_count"], body["error_count"]) == (4, 1, 3)
    assert [r["status"] for r in body["results"]] == ["accepted", "error", "error", "error"]
    assert [r.get("code") for r in body["results"]] == [None, "bad_request", "idempotency_conflict", "not_found"]
    assert body["results"][0]["event"]["status"] == "PENDING"


def test_event_data_over_the_engine_limits_is_400_at_ingest(api, program, database):
    # The worker refused these only later (FAILED); nothing is stored now.
    deep: object = 1.0
    for _ in range(33):
        deep = [deep]
    too_deep = api.post("/v1/events", event(program, idempotency_key="deep", event_data={"d": deep}))
    assert too_deep.status_code == 400, too_deep.text
    assert too_deep.json()["details"]["reason"] == "limit_event_data_depth"
    big = api.post("/v1/events", event(program, idempotency_key="big", event_data={"blob": "x" * 300_000}))
    assert big.status_code == 400 and big.json()["details"]["reason"] == "limit_event_data_bytes"
    batch = api.post("/v1/events/batch", {"events": [event(program, idempotency_key="b", event_data={"d": deep})]})
    (item,) = batch.json()["results"]
    assert item["status"] == "error" and item["details"]["reason"] == "limit_event_data_depth"
    with database_proxy.connection_context():
        assert EventRecord.select().count() == 0


@pytest.mark.parametrize("events", [[], [{}] * 101])
def test_batch_size_is_1_to_100(api, events):
    assert api.post("/v1/events/batch", {"events": events}).status_code == 400


def test_get_event_and_isolation(api, other_api, program):
    created = api.post("/v1/events", event(program)).json()
    response = api.get(f"/v1/events/{created['id']}")
    assert response.status_code == 200
    body = response.json()
    assert body["event_data"] == {"type": "purchase", "amount": 10.5}
    assert body["rule_evaluations"] == [] and body["event_type"] == "EXTERNAL"
    assert other_api.get(f"/v1/events/{created['id']}").status_code == 404
    assert api.get("/v1/events/missing").status_code == 404


def test_list_filters_and_pages(api, program):
    ids = [
        api.post("/v1/events", event(program, idempotency_key=f"k{i}", external_id=f"u{i % 2}")).json()["id"]
        for i in range(5)
    ]
    first = api.get("/v1/events", limit=2).json()
    assert [e["id"] for e in first["data"]] == ids[::-1][:2]
    assert first["pagination"]["has_more"] is True
    seen = [e["id"] for e in first["data"]]
    cursor = first["pagination"]["next_cursor"]
    while cursor:
        page = api.get("/v1/events", limit=2, cursor=cursor).json()
        seen += [e["id"] for e in page["data"]]
        cursor = page["pagination"]["next_cursor"]
    assert seen == ids[::-1]
    ascending = api.get("/v1/events", sort_dir="asc", external_id="u1").json()
    assert [e["id"] for e in ascending["data"]] == [ids[1], ids[3]]
    assert api.get("/v1/events", status="COMPLETED").json()["data"] == []
    assert len(api.get("/v1/events", program_id=program, status="PENDING").json()["data"]) == 5


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 201},
        {"cursor": "garbage!"},
        {"status": "DONE"},
        {"sort_by": "name"},
        {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
    ],
)
def test_list_rejects_bad_parameters(api, params):
    response = api.get("/v1/events", **params)
    assert response.status_code == 400 and response.json()["code"] == "bad_request"


def test_cursor_of_another_ordering_is_rejected(api, program):
    for i in range(3):
        api.post("/v1/events", event(program, idempotency_key=f"k{i}"))
    cursor = api.get("/v1/events", limit=1).json()["pagination"]["next_cursor"]
    assert api.get("/v1/events", limit=1, cursor=cursor, sort_by="status").status_code == 400


def test_retry_only_failed_events(api, program):
    created = api.post("/v1/events", event(program)).json()
    refused = api.post(f"/v1/events/{created['id']}/retry")
    assert refused.status_code == 409
    with database_proxy.connection_context():
        EventRecord.update(status="FAILED", attempts=5, error_message="boom").execute()
    response = api.post(f"/v1/events/{created['id']}/retry")
    assert response.status_code == 202
    assert response.json() == {
        "event_id": created["id"],
        "message": "Event queued for retry",
        "previous_error": "boom",
        "previous_status": "FAILED",
        "status": "PENDING",
    }
    with database_proxy.connection_context():
        row = EventRecord.get_by_id(created["id"])
        assert (row.status, row.attempts, row.error_message) == ("PENDING", 0, None)
    assert api.post("/v1/events/nope/retry").status_code == 404


def test_event_through_the_worker_shows_its_rule_evaluations(immediate_api):
    api = immediate_api
    program = create_program(api, points_scale=0)["id"]
    rule = api.post(
        "/v1/rules",
        {
            "program_id": program,
            "name": "points",
            "condition": "event.amount > 1.0",
            "actions": [{"type": "CREDIT", "asset_id": "PTS", "amount": "event.amount * 10.0"}],
        },
    )
    assert rule.status_code == 201, rule.text
    created = api.post("/v1/events", event(program, event_data={"amount": 4.0})).json()
    body = api.get(f"/v1/events/{created['id']}").json()
    assert body["status"] == "COMPLETED", body
    assert [(e["rule_id"], e["status"]) for e in body["rule_evaluations"]] == [(rule.json()["id"], "SUCCESS")]
    assert body["participant_id"] is not None
    balances = api.get(f"/v1/participants/{body['participant_id']}/balances").json()["data"]
    assert [b["available"] for b in balances] == ["40"]
    matched = api.get("/v1/events", rule_id=rule.json()["id"]).json()["data"]
    assert [e["id"] for e in matched] == [created["id"]]
    assert [e["id"] for e in api.get(f"/v1/participants/{body['participant_id']}/events").json()["data"]] == [
        created["id"]
    ]
    entries = api.get("/v1/journal-entries", event_id=created["id"]).json()["data"]
    assert len(entries) == 1 and entries[0]["rule_id"] == rule.json()["id"]
    # by rule: found through the rule's SUCCESS evaluations (journal entries have no rule index)
    by_rule = api.get("/v1/journal-entries", rule_id=rule.json()["id"]).json()["data"]
    assert [e["id"] for e in by_rule] == [entries[0]["id"]]
    assert api.get("/v1/journal-entries", rule_id=body["id"]).json()["data"] == []


def test_an_event_for_a_lane_already_awake_adds_no_wake_up_and_still_completes(api, program, database):
    from engine.queue import current_queue
    from engine.worker.processor import process_event_task

    first = api.post("/v1/events", event(program, idempotency_key="a1")).json()
    second = api.post("/v1/events", event(program, idempotency_key="a2", event_timestamp="2026-01-01T11:00:00Z"))
    other = api.post("/v1/events", event(program, idempotency_key="b1", external_id="user_2")).json()
    queue = current_queue()
    # user_1's lane was awake (a due PENDING event) when its second event arrived: one wake-up per lane
    assert sorted(t.args[0] for t in queue.huey.pending()) == sorted([first["id"], other["id"]])
    for task in queue.huey.pending():
        process_event_task(queue, task.args[0])
    with database_proxy.connection_context():
        statuses = {e.id: e.status for e in EventRecord.select()}
    assert statuses == {first["id"]: "COMPLETED", second.json()["id"]: "COMPLETED", other["id"]: "COMPLETED"}


def test_an_event_whose_rule_errored_says_so_by_default(immediate_api):
    """A rule reading a field the event lacks is SKIPPED_ERROR and the event still completes (D9):
    the default view counts and names it, and the store's error counts (behind the metrics and
    `accrual status`) see it."""
    from datetime import timedelta

    from engine.store.db import utcnow
    from engine.store.rule_health import rule_error_counts

    api = immediate_api
    program = create_program(api, points_scale=0)["id"]
    for name, condition, order in (("points", "event.amount > 1.0", 10), ("coupon", "event.coupon == 'X'", 20)):
        body = {
            "program_id": program,
            "name": name,
            "order": order,
            "condition": condition,
            "actions": [{"type": "CREDIT", "asset_id": "PTS", "amount": 1}],
        }
        assert api.post("/v1/rules", body).status_code == 201
    created = api.post("/v1/events", event(program, event_data={"amount": 4.0})).json()
    body = api.get(f"/v1/events/{created['id']}").json()
    assert body["status"] == "COMPLETED"
    assert body["rule_errors"] == {"count": 1, "rules": ["coupon"]}
    assert [e["status"] for e in body["rule_evaluations"]] == ["SUCCESS"]  # Scrip's default listing
    full = api.get(f"/v1/events/{created['id']}", include_skipped="true").json()
    assert [e["status"] for e in full["rule_evaluations"]] == ["SUCCESS", "SKIPPED_ERROR"]
    with database_proxy.connection_context():
        counts = {c.rule_name: c for c in rule_error_counts(since=utcnow() - timedelta(minutes=5), program_id=program)}
        earlier = rule_error_counts(since=utcnow() - timedelta(days=2), until=utcnow() - timedelta(days=1))
    assert (counts["coupon"].events, counts["coupon"].errors, counts["coupon"].error_rate) == (1, 1, 1.0)
    assert (counts["points"].events, counts["points"].errored) == (1, 0)
    assert all(c.events == 0 and c.errored == 0 for c in earlier)


def test_event_data_is_checked_against_declared_types_when_the_program_asks(api, program):
    declared = {"purchase": {"amount": "double"}}
    assert (
        api.patch(f"/v1/programs/{program}", {"event_types": declared, "event_validation": "REJECT"}).status_code == 200
    )
    from api import event_validation

    event_validation._cache.clear()  # the 5 s cache of this process
    refused = api.post("/v1/events", event(program, event_data={"type": "purchase", "amount": "4"}))
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_event_data"
    assert refused.json()["details"]["problems"] == ["amount: expected double, got str"]
    assert api.post("/v1/events", event(program, event_data={"type": "purchase", "amount": 4.0})).status_code == 202
    assert api.patch(f"/v1/programs/{program}", {"event_validation": "FLAG"}).json()["event_validation"] == "FLAG"
    event_validation._cache.clear()
    flagged = api.post("/v1/events", event(program, idempotency_key="f1", event_data={"type": "refund"}))
    assert flagged.status_code == 202
    body = api.get(f"/v1/events/{flagged.json()['id']}").json()
    assert body["event_data_problems"] == ["event type 'refund' is not declared"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("program_id", "not-a-uuid"),
        ("participant_id", "42"),
        ("event_timestamp", 1700000000),
        ("event_timestamp", "1700000000"),
        ("event_timestamp", "2026-01-01T12:00:00"),
    ],
)
def test_ingest_names_a_non_uuid_id_or_a_non_rfc3339_time(api, program, field, value):
    body = {**event(program), field: value}
    if field == "participant_id":
        body.pop("external_id")
    response = api.post("/v1/events", body)
    assert response.status_code == 400, response.text
    assert (response.json()["code"], response.json()["details"]["field"]) == ("bad_request", field)
    (item,) = api.post("/v1/events/batch", {"events": [body]}).json()["results"]
    assert (item["status"], item["code"]) == ("error", "bad_request")
