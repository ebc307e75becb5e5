"""`/v1/programs/{program_id}/automations`: automations through the API, in Scrip's wire format,
and the scheduler firing one created there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.store.db import database_proxy
from engine.store.models import EventRecord
from engine.worker.automations import fire_due_automations

CRON = {
    "name": "monday_nudge",
    "event_name": "nudge",
    "payload": {"channel": "email"},
    "scope": "participants",
    "trigger": {"type": "cron", "cron_expression": "0 9 * * MON", "timezone": "Europe/London"},
    "guard_condition": "participant.status == 'ACTIVE'",
}


def base(program: str) -> str:
    return f"/v1/programs/{program}/automations"


def test_create_get_and_list_in_scrip_s_shape(api, program):
    created = api.post(base(program), CRON)
    assert created.status_code == 201, created.text
    body = created.json()
    assert {k: body[k] for k in ("name", "event_name", "payload", "scope", "trigger_type", "cron_expression")} == {
        "name": "monday_nudge",
        "event_name": "nudge",
        "payload": {"channel": "email"},
        "scope": "participants",
        "trigger_type": "cron",
        "cron_expression": "0 9 * * MON",
    }
    assert (body["timezone"], body["status"], body["source"], body["execution_status"]) == (
        "Europe/London",
        "active",
        "api",
        "idle",
    )
    assert (body["participants_total"], body["participants_processed"]) == (0, 0)
    assert datetime.fromisoformat(body["next_run_at"]).weekday() == 0
    assert api.get(f"{base(program)}/{body['id']}").json() == body
    once = {**CRON, "name": "launch", "trigger": {"type": "one_time", "trigger_at": "2030-06-01T09:00:00+02:00"}}
    launch = api.post(base(program), once).json()
    assert launch["trigger_at"] == "2030-06-01T07:00:00Z" and launch["next_run_at"] == "2030-06-01T07:00:00Z"
    listed = api.get(base(program)).json()
    assert [a["name"] for a in listed["data"]] == ["launch", "monday_nudge"]  # newest first
    assert [a["name"] for a in api.get(base(program), trigger_type="cron").json()["data"]] == ["monday_nudge"]
    assert [a["name"] for a in api.get(base(program), search="laun").json()["data"]] == ["launch"]
    assert api.get(base(program), status="paused").json()["data"] == []
    assert api.get(base(program), source="rule_action").json()["data"] == []


def test_invalid_automations_are_400_with_every_problem(api, program):
    bad = {**CRON, "scope": "program", "trigger": {"type": "immediate"}, "guard_condition": "participant.x"}
    response = api.post(base(program), bad)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "invalid_automation"
    assert [(p["field"], p["code"]) for p in body["details"]["problems"]] == [
        ("scope", "invalid_scope"),
        ("guard_condition", "DSL_UNKNOWN_NAME"),
    ]
    unknown = api.post(base(program), {**CRON, "trigger": {"type": "hourly"}})
    assert unknown.status_code == 400 and unknown.json()["code"] == "bad_request"


def test_program_scope_automations_are_stored_and_one_time_ones_may_name_a_participant(api, program):
    response = api.post(base(program), {**CRON, "scope": "program", "guard_condition": None})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["scope"] == "program" and body["participant_id"] is None
    assert "participants_total" not in body  # no fan-out for a program-scope firing
    triggered = api.post(f"{base(program)}/{body['id']}/trigger", {})
    assert triggered.status_code == 200, triggered.text
    once = {"type": "one_time", "trigger_at": "2030-06-01T09:00:00Z"}
    person = api.post("/v1/participants", {"external_id": "ann"}).json()
    named = {**CRON, "name": "for_ann", "scope": "program", "trigger": once, "guard_condition": None}
    created = api.post(base(program), {**named, "participant_id": person["id"]})
    assert created.status_code == 201 and created.json()["participant_id"] == person["id"]
    not_now = api.post(f"{base(program)}/{created.json()['id']}/trigger", {})
    assert not_now.status_code == 409 and not_now.json()["code"] == "automation_not_triggerable"
    nobody = api.post(base(program), {**named, "name": "nobody", "participant_id": "missing"})
    assert nobody.status_code == 404


def test_a_live_name_is_unique_and_other_organisations_see_nothing(api, other_api, program):
    first = api.post(base(program), CRON).json()
    again = api.post(base(program), CRON)
    assert again.status_code == 409 and again.json()["code"] == "automation_exists"
    assert other_api.get(f"{base(program)}/{first['id']}").status_code == 404
    assert api.get(f"{base(program)}/01a24000-0000-7000-8000-000000000000").status_code == 404


def test_patch_pauses_resumes_and_re_times(api, program):
    automation = api.post(base(program), CRON).json()
    one = f"{base(program)}/{automation['id']}"
    paused = api.patch(one, {"status": "paused"})
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    retimed = api.patch(one, {"status": "active", "cron_expression": "0 10 * * TUE", "timezone": None})
    body = retimed.json()
    assert (body["status"], body["cron_expression"], body["timezone"]) == ("active", "0 10 * * TUE", None)
    assert datetime.fromisoformat(body["next_run_at"]).strftime("%a %H:%M") == "Tue 10:00"  # the program's UTC
    broken = api.patch(one, {"cron_expression": "0 25 * * *"})
    assert broken.status_code == 400 and broken.json()["details"]["problems"][0]["code"] == "invalid_cron"
    assert api.patch(one, {}).status_code == 400
    assert api.patch(one, {"trigger_at": "2030-01-01T00:00:00Z"}).json()["code"] == "invalid_automation"


def test_archive_trigger_cancel_and_subscriptions(api, program):
    automation = api.post(base(program), CRON).json()
    one = f"{base(program)}/{automation['id']}"
    triggered = api.post(f"{one}/trigger")
    assert triggered.status_code == 200
    assert api.post(f"{one}/cancel").json()["code"] == "automation_not_executing"
    refresh = api.post(f"{one}/refresh-subscriptions")
    assert refresh.status_code == 400 and refresh.json()["code"] == "not_participant_state"
    empty = {"data": [], "pagination": {"has_more": False, "next_cursor": None}}
    assert api.get(f"{one}/subscriptions").json() == empty
    archived = api.delete(one)
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    assert api.get(one).json()["status"] == "archived"
    assert api.patch(one, {"status": "active"}).json()["code"] == "automation_archived"
    assert api.post(f"{one}/trigger").json()["code"] == "automation_not_idle"


def test_an_automation_created_through_the_api_fires_for_the_program_s_participants(api, program):
    for name in ("ann", "bo"):
        assert api.post("/v1/participants", {"external_id": name, "program_id": program}).status_code == 201
    automation = api.post(base(program), {**CRON, "name": "now", "trigger": {"type": "immediate"}}).json()
    with database_proxy.connection_context():
        assert fire_due_automations(datetime.now(UTC) + timedelta(seconds=1)) == 2
        events = list(EventRecord.select().where(EventRecord.event_type == "SYSTEM"))
    assert sorted(e.external_id for e in events) == ["ann", "bo"]
    body = api.get(f"{base(program)}/{automation['id']}").json()
    assert (body["execution_status"], body["participants_total"], body["participants_processed"]) == (
        "completed",
        2,
        2,
    )
    assert body["next_run_at"] is None and body["processed_at"] is not None


def test_a_participant_state_automation_subscribes_and_lists_its_subscriptions(api, program):
    assert api.post("/v1/participants", {"external_id": "ann", "program_id": program}).status_code == 201
    birthday = {
        **CRON,
        "name": "birthday",
        "trigger": {
            "type": "participant_state",
            "schedule_type": "ATTRIBUTE_DATE",
            "schedule_config": {"attribute": "birthday", "time": "09:00"},
        },
    }
    created = api.post(base(program), birthday)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["schedule_type"], body["schedule_config"]) == (
        "ATTRIBUTE_DATE",
        {"attribute": "birthday", "time": "09:00"},
    )
    one = f"{base(program)}/{body['id']}"
    with database_proxy.connection_context():
        fire_due_automations(datetime.now(UTC) + timedelta(seconds=1))
    (subscription,) = api.get(f"{one}/subscriptions").json()["data"]
    assert (subscription["status"], subscription["trigger_count"], subscription["next_trigger_at"]) == (
        "active",
        0,
        None,
    )
    assert api.get(f"{one}/subscriptions", status="cancelled").json()["data"] == []
    assert api.post(f"{one}/refresh-subscriptions").status_code == 202
    assert api.post(f"{one}/trigger").json()["code"] == "automation_not_triggerable"
    api.patch(one, {"status": "paused"})
    paused = api.post(f"{one}/refresh-subscriptions")
    assert paused.status_code == 400 and paused.json()["code"] == "automation_not_active"


def test_a_program_event_completes_and_reads_back_without_a_participant(api, program):
    from engine.queue import current_queue
    from engine.store.models import Program, StateCounter, WebhookEndpoint, WebhookMessage
    from engine.worker.processor import process_event_task

    counter = {"type": "COUNTER", "key": "drops", "value": 1, "target": {"type": "PROGRAM"}}
    rule = {"program_id": program, "name": "drop", "condition": 'event.type == "drop"', "actions": [counter]}
    assert api.post("/v1/rules", rule).status_code == 201
    spec = {**CRON, "name": "drop", "event_name": "drop", "scope": "program", "guard_condition": None}
    automation = api.post(base(program), spec).json()
    assert api.post(f"{base(program)}/{automation['id']}/trigger", {}).status_code == 200
    with database_proxy.connection_context():
        organisation = Program.get_by_id(program).organisation_id
        WebhookEndpoint.create(organisation=organisation, url="http://127.0.0.1:1/h", secret="s", enabled_events=["*"])
        assert fire_due_automations(datetime.now(UTC) + timedelta(seconds=1)) == 1
        (event,) = EventRecord.select().where(EventRecord.event_type == "SYSTEM")
    process_event_task(current_queue(), event.id)
    body = api.get(f"/v1/events/{event.id}").json()
    assert (body["status"], body["participant_id"], body["external_id"]) == ("COMPLETED", None, None)
    assert [e["id"] for e in api.get("/v1/events", program_id=program).json()["data"]] == [event.id]
    with database_proxy.connection_context():
        (completed,) = WebhookMessage.select().where(WebhookMessage.type == "event.completed")
        drops = StateCounter.get((StateCounter.owner_type == "PROGRAM") & (StateCounter.key == "drops"))
    data = completed.payload["data"]
    assert data["event_id"] == event.id and "participant_id" not in data and "external_id" not in data
    assert drops.value == 1


def test_schedule_event_follow_ups_are_listed_as_read_only_rule_action_automations(api, program):
    from engine.queue import current_queue
    from engine.worker.processor import process_event_task

    later = {"type": "SCHEDULE_EVENT", "event_name": "followup", "delay": "24h", "payload": {"n": 1}}
    rule = {"program_id": program, "name": "later", "condition": "has(event.amount)", "actions": [later]}
    assert api.post("/v1/rules", rule).status_code == 201
    api.post(base(program), CRON)  # one of the API's own
    sent = {"program_id": program, "external_id": "ann", "idempotency_key": "o1", "event_data": {"amount": 1}}
    origin = api.post("/v1/events", {**sent, "event_timestamp": "2026-01-01T12:00:00Z"}).json()
    process_event_task(current_queue(), origin["id"])
    (listed,) = api.get(base(program), source="rule_action").json()["data"]
    assert [a["source"] for a in api.get(base(program), source="api").json()["data"]] == ["api"]
    assert (listed["trigger_type"], listed["scope"], listed["event_name"]) == ("one_time", "program", "followup")
    assert listed["name"] == f"schedule:{origin['id']}:later:0" and listed["payload"] == {"n": 1}
    assert listed["participant_id"] == api.get(f"/v1/events/{origin['id']}").json()["participant_id"]
    assert api.get(f"/v1/events/{listed['event_id']}").json()["event_type"] == "SYSTEM"
    one = f"{base(program)}/{listed['id']}"
    assert api.get(one).json() == listed
    for response in (api.patch(one, {"status": "paused"}), api.post(f"{one}/trigger"), api.delete(one)):
        assert response.status_code == 409 and response.json()["code"] == "automation_read_only"
