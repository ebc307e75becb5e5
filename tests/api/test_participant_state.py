"""/v1/participants/{id}/state: tags, counters, attributes, each change in history."""

from __future__ import annotations

import pytest

from tests.api.conftest import create_program


@pytest.fixture
def pid(api) -> str:
    return api.post("/v1/participants", {"external_id": "u1"}).json()["id"]


def test_tags(api, other_api, pid):
    assert api.put(f"/v1/participants/{pid}/state/tags/VIP").json() == {"tag": "vip"}
    assert api.put(f"/v1/participants/{pid}/state/tags/vip").status_code == 200
    assert api.get(f"/v1/participants/{pid}/state/tags").json()["data"] == [{"tag": "vip"}]
    assert api.put(f"/v1/participants/{pid}/state/tags", {"tags": ["a", "B"]}).json() == {"tags": ["a", "b"]}
    assert api.delete(f"/v1/participants/{pid}/state/tags/a").status_code == 204
    assert api.delete(f"/v1/participants/{pid}/state/tags/missing").status_code == 204
    assert api.get(f"/v1/participants/{pid}/state/tags").json()["data"] == [{"tag": "b"}]
    assert other_api.get(f"/v1/participants/{pid}/state/tags").status_code == 404
    assert api.put(f"/v1/participants/{pid}/state/tags", {"tags": "a"}).status_code == 400


def test_counters(api, pid):
    assert api.get(f"/v1/participants/{pid}/state/counters/visits").status_code == 404
    set_ = api.put(f"/v1/participants/{pid}/state/counters/visits", {"value": "3", "reset_after": "24h"})
    assert set_.status_code == 200
    assert (set_.json()["value"], set_.json()["reset_after"]) == ("3", "24h")
    assert api.get(f"/v1/participants/{pid}/state/counters/visits").json()["value"] == "3"
    assert [c["key"] for c in api.get(f"/v1/participants/{pid}/state/counters").json()["data"]] == ["visits"]
    assert api.put(f"/v1/participants/{pid}/state/counters/visits", {"value": "x"}).status_code == 400
    bad = api.put(f"/v1/participants/{pid}/state/counters/visits", {"value": "1", "reset_after": "soon"})
    assert bad.status_code == 400 and bad.json()["details"]["field"] == "reset_after"
    cleared = api.put(f"/v1/participants/{pid}/state/counters/visits", {"value": "1.5", "reset_after": ""}).json()
    assert cleared["reset_after"] is None and cleared["value"] == "1.5"
    assert api.delete(f"/v1/participants/{pid}/state/counters/visits").status_code == 204
    assert api.get(f"/v1/participants/{pid}/state/counters").json()["data"] == []
    assert api.get(f"/v1/participants/{pid}").json()["counters"] == {}


def test_attributes(api, pid):
    assert api.put(f"/v1/participants/{pid}/state/attributes/city", {"value": "Oslo"}).json() == {
        "key": "city",
        "value": "Oslo",
    }
    merged = api.patch(f"/v1/participants/{pid}/state/attributes", {"attributes": {"zip": "0150"}}).json()
    assert merged == {"attributes": {"city": "Oslo", "zip": "0150"}}
    assert api.put(f"/v1/participants/{pid}/state/attributes/city", {"value": ""}).status_code == 400
    assert api.delete(f"/v1/participants/{pid}/state/attributes/city").status_code == 204
    assert api.get(f"/v1/participants/{pid}/state/attributes").json()["data"] == [{"key": "zip", "value": "0150"}]
    operations = [
        h["operation"]
        for h in api.get(f"/v1/participants/{pid}/activity/state-history", state_type="attribute").json()["data"]
    ]
    assert operations == ["delete", "set", "set"]


@pytest.fixture
def tiered(api, database) -> dict:
    """A program with a tier type, created through the store directly."""
    from engine.model.bundle import TierLevel, TierType
    from engine.store import tier_types
    from engine.store.db import database_proxy

    program = create_program(api, "Air")["id"]
    person = api.post("/v1/participants", {"external_id": "flyer", "program_id": program}).json()["id"]
    spec = TierType(
        key="status",
        levels=[
            TierLevel(key="silver", rank=1, benefits={"lounge": False}),
            TierLevel(key="gold", rank=2, benefits={"lounge": True}),
        ],
    )
    with database_proxy.connection_context():
        tier_types.create_tier_type(api.org_id(), program, spec)
    return {"program": program, "person": person}


def test_tiers(api, other_api, tiered):
    base = f"/v1/participants/{tiered['person']}/state/tiers"
    program = {"program_id": tiered["program"]}
    assert api.get(base, **program).json()["data"] == []
    assert api.get(f"{base}/status", **program).status_code == 404
    set_ = api.client.put(f"{base}/status", params=program, json={"level": "gold"}, headers=api.headers)
    assert set_.status_code == 200, set_.text
    assert (set_.json()["level"], set_.json()["rank"], set_.json()["benefits"]) == ("gold", 2, {"lounge": True})
    assert [t["key"] for t in api.get(base, **program).json()["data"]] == ["status"]
    bad = api.client.put(f"{base}/status", params=program, json={"level": "platinum"}, headers=api.headers)
    assert bad.status_code == 400 and bad.json()["details"]["field"] == "level"
    assert (
        api.client.put(f"{base}/nope", params=program, json={"level": "gold"}, headers=api.headers).status_code == 404
    )
    assert api.get(base).status_code == 400  # program_id is required
    assert other_api.get(base, **program).status_code == 404
    assert api.delete(f"{base}/status", **program).status_code == 204
    assert api.get(f"{base}/status", **program).status_code == 404
    history = api.get(f"/v1/participants/{tiered['person']}/activity/state-history", state_type="tier").json()["data"]
    assert [h["operation"] for h in history] == ["delete", "set"]
    api.patch(f"/v1/participants/{tiered['person']}/status", {"status": "SUSPENDED"})
    inactive = api.client.put(f"{base}/status", params=program, json={"level": "gold"}, headers=api.headers)
    assert inactive.status_code == 409 and inactive.json()["code"] == "participant_inactive"


def test_a_tier_expiry_is_in_the_future_and_a_lapsed_level_is_gone_before_any_sweep(api, tiered):
    from datetime import timedelta

    from engine.store.db import database_proxy, utcnow
    from engine.store.models import ParticipantTier

    base = f"/v1/participants/{tiered['person']}/state/tiers"
    program = {"program_id": tiered["program"]}
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    refused = api.client.put(
        f"{base}/status", params=program, json={"level": "gold", "expires_at": past}, headers=api.headers
    )
    assert (refused.status_code, refused.json()["details"]["field"]) == (400, "expires_at")
    soon = (utcnow() + timedelta(days=1)).isoformat()
    api.client.put(f"{base}/status", params=program, json={"level": "gold", "expires_at": soon}, headers=api.headers)
    again = api.client.put(f"{base}/status", params=program, json={"level": "gold"}, headers=api.headers)
    assert again.json()["expires_at"] is None  # the same level: the expiry is replaced
    with database_proxy.connection_context():
        row = ParticipantTier.get()
        assert row.due_at is None
        ParticipantTier.update(expires_at=utcnow() - timedelta(seconds=1)).execute()  # lapsed, not yet swept
    assert api.get(base, **program).json()["data"] == []
    assert api.get(f"{base}/status", **program).status_code == 404
    assert api.get(f"/v1/participants/{tiered['person']}").json()["tiers"] == {}
    history = api.get(f"/v1/participants/{tiered['person']}/activity/state-history", state_type="tier").json()["data"]
    assert [h.get("reason") for h in history] == ["API"]


def test_the_api_s_counters_and_levels_start_hand_over_and_give_back_a_rollover(api, database):
    from datetime import UTC, datetime

    import msgspec

    from engine.model.bundle import TierType
    from engine.store import tier_types
    from engine.store.db import database_proxy
    from engine.store.models import TierRollover

    program = create_program(api, "Rolling")["id"]
    person = api.post("/v1/participants", {"external_id": "roller", "program_id": program}).json()["id"]
    lifecycle = {
        "retention": {"mode": "PERIOD_BASED"},
        "qualification_period": {"type": "CALENDAR_YEAR"},
        "counters": {"qualifying": ["miles"]},
    }
    levels = [{"key": "gold", "rank": 1}]
    spec = msgspec.convert({"key": "status", "levels": levels, "lifecycle": lifecycle}, TierType)
    with database_proxy.connection_context():
        tier_types.create_tier_type(api.org_id(), program, spec)

    def scheduled() -> list[datetime]:
        with database_proxy.connection_context():
            return [row.period_ends_at for row in TierRollover.select()]

    api.put(f"/v1/participants/{person}/state/counters/visits", {"value": "3"})
    assert scheduled() == []  # not a qualifying counter
    api.put(f"/v1/participants/{person}/state/counters/miles", {"value": "1200"})
    next_year = datetime(datetime.now(UTC).year + 1, 1, 1, tzinfo=UTC)
    assert scheduled() == [next_year]
    base, params = f"/v1/participants/{person}/state/tiers/status", {"program_id": program}
    assert api.client.put(base, params=params, json={"level": "gold"}, headers=api.headers).status_code == 200
    assert scheduled() == []  # the level's row schedules the period now
    assert api.delete(base, **params).status_code == 204
    assert scheduled() == [next_year]  # the period goes on without the level


def test_a_processed_event_starts_an_activity_refresh_wait_again(immediate_api):
    from engine.store.db import database_proxy
    from engine.store.models import ParticipantTier

    api = immediate_api
    program = create_program(api, "Club")["id"]
    lifecycle = {"retention": {"mode": "ACTIVITY_REFRESH", "duration": "720h"}}
    tier = {"key": "member", "levels": [{"key": "gold", "rank": 1}], "lifecycle": lifecycle}
    assert api.post(f"/v1/programs/{program}/tiers", tier).status_code == 201
    rule = {"program_id": program, "name": "seen", "condition": "true", "actions": [{"type": "TAG", "tag": "seen"}]}
    assert api.post("/v1/rules", rule).status_code == 201
    person = api.post("/v1/participants", {"external_id": "u1", "program_id": program}).json()
    base = f"/v1/participants/{person['id']}/state/tiers/member"
    assert (
        api.client.put(base, params={"program_id": program}, json={"level": "gold"}, headers=api.headers).status_code
        == 200
    )
    with database_proxy.connection_context():
        first = ParticipantTier.get().review_at
    event = {"program_id": program, "external_id": "u1", "idempotency_key": "e1",
             "event_timestamp": "2026-01-01T12:00:00Z", "event_data": {}}  # fmt: skip
    created = api.post("/v1/events", event).json()
    assert api.get(f"/v1/events/{created['id']}").json()["status"] == "COMPLETED"
    with database_proxy.connection_context():
        row = ParticipantTier.get()
    assert row.review_at > first and row.due_at == row.review_at
