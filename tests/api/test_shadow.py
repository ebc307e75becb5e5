"""`/v1/programs/{id}/shadow`: a bundle applied as the program's shadow is evaluated beside the
live rules on every event, reported live against shadow, listed event by event, promoted in one
atomic apply or cleared; bad requests get a clear code."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api.apply_target import DatabaseTarget
from engine.rules.plan import ApplyError
from engine.store.models import JournalEntry, ShadowRuleset
from tests.api.conftest import create_program


def bundle(multiplier: str = "2.0", *, condition: str = "true", key: str = "coffee") -> dict:
    return {
        "program": {"key": key, "name": "Coffee"},
        "assets": [{"symbol": "PTS", "name": "Points", "scale": 2}],
        "rules": [
            {
                "name": "earn",
                "condition": condition,
                "actions": [{"type": "CREDIT", "asset_id": "PTS", "amount": f"event.amount * {multiplier}"}],
            }
        ],
    }


def live_program(api) -> str:
    program = create_program(api, key="coffee", points_scale=2)["id"]
    rule = {
        "program_id": program,
        "name": "earn",
        "condition": "true",
        "actions": [{"type": "CREDIT", "asset_id": "PTS", "amount": "event.amount"}],
    }
    assert api.post("/v1/rules", rule).status_code == 201
    return program


def send_events(api, program: str, *amounts: tuple[str, str, float]) -> None:
    for key, who, amount in amounts:
        event = {
            "program_id": program,
            "external_id": who,
            "idempotency_key": key,
            "event_timestamp": "2026-11-01T00:00:00Z",
            "event_data": {"amount": amount},
        }
        assert api.post("/v1/events", event).status_code == 202


EVENTS = (("k1", "alice", 10.0), ("k2", "bob", 20.0), ("k3", "alice", 5.0))


def test_a_changed_multiplier_shows_exactly_its_difference(immediate_api):
    api = immediate_api
    program = live_program(api)
    applied = api.put(f"/v1/programs/{program}/shadow", bundle("2.0"))
    assert applied.status_code == 200, applied.text
    assert applied.json()["status"] == "ACTIVE" and applied.json()["version"] == 1
    send_events(api, program, *EVENTS)
    report = api.get(f"/v1/programs/{program}/shadow/report", sample=2).json()
    assert (report["events"], report["events_processed"], report["differing"], report["errors"]) == (3, 3, 3, 0)
    assert report["rules"] == [
        {"rule": "earn", "before": {"matched": 3, "skipped": 0, "erroring": 0},
         "after": {"matched": 3, "skipped": 0, "erroring": 0}}
    ]  # fmt: skip
    (pts,) = report["assets"]
    assert pts["asset"] == "PTS" and Decimal(pts["before"]["credited"]) == 35
    assert Decimal(pts["after"]["credited"]) == 70 and Decimal(pts["liability_change"]) == 35
    assert len(report["samples"]) == 2
    sample = report["samples"][0]
    assert sample["baseline"]["rules"][0]["actions"][0]["amount"] == "10.00"
    assert sample["candidate"]["rules"][0]["actions"][0]["amount"] == "20.00"
    differing = api.get(f"/v1/programs/{program}/shadow/events", differs="true", limit=2).json()
    assert len(differing["data"]) == 2 and differing["pagination"]["has_more"] is True
    rest = api.get(
        f"/v1/programs/{program}/shadow/events", differs="true", cursor=differing["pagination"]["next_cursor"]
    )
    assert len(rest.json()["data"]) == 1
    assert api.get(f"/v1/programs/{program}/shadow/events", differs="false").json()["data"] == []
    balances = api.get(f"/v1/participants/{_participant(api, 'alice')}/balances").json()
    assert "15.00" in str(balances)  # the live rules' credit: 10 + 5


def _participant(api, external_id: str) -> str:
    found = api.get("/v1/participants", external_id=external_id).json()["data"]
    return found[0]["id"]


def test_an_identical_shadow_differs_in_nothing(immediate_api):
    program = live_program(immediate_api)
    assert immediate_api.put(f"/v1/programs/{program}/shadow", bundle("1.0")).status_code == 200
    send_events(immediate_api, program, *EVENTS)
    report = immediate_api.get(f"/v1/programs/{program}/shadow/report").json()
    assert (report["events"], report["differing"]) == (3, 0) and report["samples"] == [], report["samples"][:1]
    assert report["assets"][0]["before"] == report["assets"][0]["after"]


def test_shadow_errors_are_counted_by_rule_and_by_event(immediate_api):
    api = immediate_api
    program = live_program(api)
    assert api.put(f"/v1/programs/{program}/shadow", bundle(condition="event.missing > 1.0")).status_code == 200
    send_events(api, program, EVENTS[0])
    report = api.get(f"/v1/programs/{program}/shadow/report").json()
    assert report["rules"][0]["after"]["erroring"] == 1 and report["rules"][0]["before"]["matched"] == 1
    assert api.put(f"/v1/programs/{program}/shadow", bundle()).json()["version"] == 2
    shadow = ShadowRuleset.get((ShadowRuleset.program == program) & (ShadowRuleset.version == 2))
    broken = {**shadow.bundle, "rules": [{**shadow.bundle["rules"][0], "condition": "event.amount >"}]}
    ShadowRuleset.update(bundle=broken).where(ShadowRuleset.id == shadow.id).execute()  # stored before a change
    send_events(api, program, EVENTS[1])
    report = api.get(f"/v1/programs/{program}/shadow/report").json()
    assert (report["events"], report["errors"], report["error_codes"]) == (1, 1, {"shadow_compile_error": 1})
    (errored,) = api.get(f"/v1/programs/{program}/shadow/events").json()["data"]
    assert errored["status"] == "ERROR" and errored["shadow"]["error_code"] == "shadow_compile_error"
    assert JournalEntry.select().count() == 2  # both events applied live


def test_promote_makes_the_shadow_live_and_ends_it(immediate_api):
    api = immediate_api
    program = live_program(api)
    assert api.put(f"/v1/programs/{program}/shadow", bundle("3.0")).status_code == 200
    promoted = api.post(f"/v1/programs/{program}/shadow/promote")
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["applied"] is True and promoted.json()["program_id"] == program
    assert api.get(f"/v1/programs/{program}/shadow").json()["code"] == "shadow_not_found"
    rule = api.get("/v1/rules", program_id=program).json()["data"][0]
    assert "3.0" in rule["actions"][0]["amount"]
    ended = api.get(f"/v1/programs/{program}/shadow/report").json()["shadow"]
    assert ended["status"] == "PROMOTED" and ended["ended_at"] is not None


def test_a_promote_that_fails_half_way_changes_nothing(immediate_api, monkeypatch):
    api = immediate_api
    program = live_program(api)
    wanted = bundle("3.0")
    wanted["rules"].append({"name": "bonus", "condition": "true", "actions": [{"type": "TAG", "tag": "b"}]})
    assert api.put(f"/v1/programs/{program}/shadow", wanted).status_code == 200
    sent = []
    real = DatabaseTarget.send

    def failing_second(self, method, path, body):
        sent.append(path)
        if len(sent) == 2:
            raise ApplyError("refused", code="refused")
        return real(self, method, path, body)

    monkeypatch.setattr(DatabaseTarget, "send", failing_second)
    refused = api.post(f"/v1/programs/{program}/shadow/promote")
    assert refused.status_code >= 400 and refused.json()["code"] == "refused" and len(sent) == 2
    monkeypatch.undo()
    rules = api.get("/v1/rules", program_id=program).json()["data"]
    assert [(r["name"], r["actions"][0]["amount"]) for r in rules] == [("earn", "event.amount")]
    assert api.get(f"/v1/programs/{program}/shadow").json()["status"] == "ACTIVE"


def test_a_new_shadow_replaces_the_old_and_clearing_ends_it(api):
    program = create_program(api, key="coffee", points_scale=2)["id"]
    assert api.put(f"/v1/programs/{program}/shadow", bundle("2.0")).json()["version"] == 1
    assert api.put(f"/v1/programs/{program}/shadow", bundle("4.0")).json()["version"] == 2
    old = api.get(f"/v1/programs/{program}/shadow/report", version=1).json()["shadow"]
    assert old["status"] == "CLEARED"
    cleared = api.delete(f"/v1/programs/{program}/shadow")
    assert cleared.status_code == 200 and cleared.json()["status"] == "CLEARED"
    again = api.delete(f"/v1/programs/{program}/shadow")
    assert again.status_code == 404 and again.json()["code"] == "shadow_not_found"
    assert api.post(f"/v1/programs/{program}/shadow/promote").json()["code"] == "shadow_not_found"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (bundle(key="tea"), 400, "shadow_program_mismatch"),
        (bundle(condition="event.amount >"), 400, "invalid_bundle"),
        ({"program": {"key": "coffee", "name": "Coffee"}, "rules": "x"}, 400, "bad_request"),
    ],
)
def test_bad_shadows_are_refused_with_a_code(api, body, status, code):
    program = create_program(api, key="coffee", points_scale=2)["id"]
    refused = api.put(f"/v1/programs/{program}/shadow", body)
    assert (refused.status_code, refused.json()["code"]) == (status, code)
    assert api.get(f"/v1/programs/{program}/shadow/report").json()["code"] == "shadow_not_found"


def test_another_organisations_program_is_not_found(api, other_api):
    program = create_program(api, key="coffee", points_scale=2)["id"]
    assert api.put(f"/v1/programs/{program}/shadow", bundle()).status_code == 200
    for answer in (
        other_api.put(f"/v1/programs/{program}/shadow", bundle()),
        other_api.get(f"/v1/programs/{program}/shadow/report"),
        other_api.get(f"/v1/programs/{program}/shadow/events"),
        other_api.delete(f"/v1/programs/{program}/shadow"),
    ):
        assert answer.status_code == 404
