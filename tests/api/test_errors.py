"""The one boundary that turns exceptions into responses: the database's operational errors are
a 503 to retry, anything unexpected a 500 without a stack trace."""

from __future__ import annotations

import peewee

from api.controllers import events


def _event(program: str) -> dict:
    return {
        "program_id": program,
        "external_id": "ann",
        "idempotency_key": "k1",
        "event_timestamp": "2026-11-01T00:00:00Z",
        "event_data": {"amount": 1},
    }


def test_a_deadlock_or_a_busy_database_is_a_503_to_retry(api, program, monkeypatch):
    def contended(*args, **kwargs):
        raise peewee.OperationalError("deadlock detected")

    monkeypatch.setattr(events, "ingest_event", contended)
    answer = api.post("/v1/events", _event(program))
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    assert answer.json() == {
        "code": "service_unavailable",
        "message": "the database is busy or unavailable; retry the request",
        "details": {},
    }
    monkeypatch.undo()
    assert api.post("/v1/events", _event(program)).status_code == 202  # the retry goes through


def test_anything_unexpected_is_a_500_without_a_stack_trace(api, program, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(events, "ingest_event", broken)
    answer = api.post("/v1/events", _event(program))
    assert answer.status_code == 500
    assert answer.json() == {"code": "internal_error", "message": "internal server error", "details": {}}
    assert "secret internals" not in answer.text and "Traceback" not in answer.text
