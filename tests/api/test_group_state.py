"""A group's tier levels through `/v1/groups/{id}/state/tiers` (A257): set, read, reset and
expire as a participant's, in GET group and the group's state history, with the webhook naming
the group; an archived group's levels are read, never changed; a rule sets a group's level."""

from __future__ import annotations

import pytest

from .test_groups import participant
from .test_webhook_events import deliveries, subscribe

PAST = "2001-01-01T00:00:00Z"
STATUS = {"key": "household", "levels": [{"key": "silver", "rank": 1, "benefits": {"lounge": True}},
                                         {"key": "gold", "rank": 2}]}  # fmt: skip


@pytest.fixture
def group(api, program) -> dict:
    members = [{"participant_id": participant(api, "ann", program), "role": "ADMIN"}]
    response = api.post("/v1/groups", {"name": "Smiths", "members": members})
    assert response.status_code == 201, response.text
    return response.json()


def tiers_of(api, program: str, group: dict) -> list[tuple[str, str, int]]:
    response = api.get(f"/v1/groups/{group['id']}/state/tiers", program_id=program)
    assert response.status_code == 200, response.text
    return [(t["key"], t["level"], t["rank"]) for t in response.json()["data"]]


def test_a_group_s_level_is_set_read_and_reset_with_history_and_webhooks(api, program, group):
    assert api.post(f"/v1/programs/{program}/tiers", STATUS).status_code == 201
    endpoint = subscribe(api, "participant.tier_changed")
    base = f"/v1/groups/{group['id']}/state/tiers"
    put = api.put(f"{base}/household?program_id={program}", {"level": "silver"})
    assert put.status_code == 200, put.text
    assert (put.json()["level"], put.json()["rank"], put.json()["benefits"]) == ("silver", 1, {"lounge": True})
    assert api.put(f"{base}/household?program_id={program}", {"level": "gold"}).status_code == 200
    assert tiers_of(api, program, group) == [("household", "gold", 2)]
    assert api.get(f"{base}/household", program_id=program).json()["level"] == "gold"
    assert api.get(f"/v1/groups/{group['id']}").json()["tiers"] == {"household": {"level": "gold", "rank": 2}}
    assert api.delete(f"{base}/household", program_id=program).status_code == 204
    assert tiers_of(api, program, group) == []
    assert api.get(f"{base}/household", program_id=program).status_code == 404
    history = api.get(f"/v1/groups/{group['id']}/activity/state-history", state_type="tier", program_id=program)
    assert [(h["operation"], h["old_value"], h["new_value"]) for h in history.json()["data"]] == [
        ("delete", "gold", None),
        ("set", "silver", "gold"),
        ("set", None, "silver"),
    ]
    sent = [(kind, body["data"]) for hook, kind, body in deliveries() if hook == endpoint]
    assert [(kind, data["group_id"], data["new_level"], data["direction"]) for kind, data in sent] == [
        ("participant.tier_changed", group["id"], "silver", "UP"),
        ("participant.tier_changed", group["id"], "gold", "UP"),
        ("participant.tier_changed", group["id"], None, "REMOVED"),
    ]
    assert all("participant_id" not in data for _, data in sent)


def test_group_tier_requests_are_checked_as_a_participant_s(api, other_api, program, group):
    api.post(f"/v1/programs/{program}/tiers", STATUS)
    base = f"/v1/groups/{group['id']}/state/tiers"
    cases = [
        (api.put(f"{base}/household?program_id={program}", {"level": "platinum"}), 400, "bad_request"),
        (api.put(f"{base}/household?program_id={program}", {"level": "gold", "expires_at": PAST}), 400, "bad_request"),
        (api.put(f"{base}/nope?program_id={program}", {"level": "gold"}), 404, "not_found"),
        (api.put(f"{base}/household", {"level": "gold"}), 400, "bad_request"),  # no program_id
        (other_api.put(f"{base}/household?program_id={program}", {"level": "gold"}), 404, "not_found"),
        (api.get(f"/v1/groups/{'0' * 8}-0000-0000-0000-{'0' * 12}/state/tiers", program_id=program), 404, "not_found"),
    ]
    assert [(r.status_code, r.json()["code"]) for r, *_ in cases] == [(status, code) for _, status, code in cases]
    api.post(f"/v1/programs/{program}/tiers/household/archive")
    archived = api.put(f"{base}/household?program_id={program}", {"level": "gold"})
    assert (archived.status_code, archived.json()["code"]) == (409, "tier_archived")


def test_an_archived_group_s_levels_are_read_not_changed(api, program, group):
    api.post(f"/v1/programs/{program}/tiers", STATUS)
    base = f"/v1/groups/{group['id']}/state/tiers"
    future = "2999-01-01T00:00:00Z"
    assert api.put(f"{base}/household?program_id={program}", {"level": "gold", "expires_at": future}).status_code == 200
    assert api.delete(f"/v1/groups/{group['id']}").status_code == 200
    assert tiers_of(api, program, group) == [("household", "gold", 2)]
    refused = [
        api.put(f"{base}/household?program_id={program}", {"level": "silver"}),
        api.delete(f"{base}/household", program_id=program),
    ]
    assert {(r.status_code, r.json()["code"]) for r in refused} == {(409, "group_archived")}


def test_a_rule_sets_the_level_of_the_group_the_event_names(immediate_api):
    api = immediate_api
    program = api.post("/v1/programs", {"name": "Family"}).json()["id"]
    owner = participant(api, "ann", program)
    family = api.post("/v1/groups", {"name": "Smiths", "members": [{"participant_id": owner, "role": "ADMIN"}]}).json()
    assert api.post(f"/v1/programs/{program}/tiers", STATUS).status_code == 201
    rule = {"program_id": program, "name": "promote", "condition": 'event.type == "promo"',
            "actions": [{"type": "SET_TIER", "tier": "household", "level": "gold",
                         "target": {"type": "GROUP", "id": "group.id"}}]}  # fmt: skip
    assert api.post("/v1/rules", rule).status_code == 201
    event = {"program_id": program, "external_id": "ann", "event_timestamp": "2026-01-01T00:00:00Z",
             "idempotency_key": "e1", "event_data": {"type": "promo", "group_id": family["id"]}}  # fmt: skip
    assert api.post("/v1/events", event).status_code == 202
    assert tiers_of(api, program, family) == [("household", "gold", 2)]
    assert api.get(f"/v1/participants/{owner}/state/tiers", program_id=program).json()["data"] == []
