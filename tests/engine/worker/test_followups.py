"""Follow-up events: SCHEDULE_EVENT and BROADCAST create SYSTEM events in the originating event's
transaction, once, due when they should be, and the rule engine runs them like any other event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.evaluator.evaluate import evaluate_event
from engine.model.bundle import Broadcast, Credit, Debit, Rule, ScheduleEvent, Target
from engine.store import followups
from engine.store.automations import spec_of
from engine.store.catalog import create_rule
from engine.store.context import load_event_context
from engine.store.db import utcnow, write_transaction
from engine.store.lanes import has_due, lane_of
from engine.store.models import AutomationRecord, Enrolment, EventRecord, Participant, RuleEvaluation
from engine.worker import processor, reconciler
from engine.worker.automations import fire_due_automations
from engine.worker.pipeline import Applied, default_pipeline
from tests.engine.consumer import FAST, drain

from .test_processor import balance_of, reload

AT = datetime(2026, 1, 1, 12, tzinfo=UTC)


def add_rule(world, name: str, condition: str, *actions) -> None:
    create_rule(world.org.id, world.program.id, Rule(name=name, condition=condition, actions=list(actions)))


def schedule(delay: str = "24h", **fields) -> ScheduleEvent:
    return ScheduleEvent(event_name="followup", delay=delay, payload={"bonus": 7}, **fields)


def bonus_rule(world) -> None:
    """Credits `event.bonus` PTS for a follow-up: proves the rule engine ran the SYSTEM event."""
    add_rule(world, "bonus", 'event.type == "followup"', Credit(asset_id="PTS", amount="event.bonus"))


def system_events() -> list[EventRecord]:
    return list(EventRecord.select().where(EventRecord.event_type == "SYSTEM").order_by(EventRecord.external_id))


def test_schedule_event_creates_one_pending_system_event_due_after_its_delay(queue, world):
    add_rule(world, "later", "has(event.amount)", schedule("24h"))
    origin = world.event(key="e1", at=AT, amount=1.0)
    assert drain(queue) == 1  # the origin's wake-up
    origin = reload(origin)
    assert origin.status == "COMPLETED"
    (followup,) = system_events()
    assert (followup.status, followup.attempts, followup.program_id) == ("PENDING", 0, world.program.id)
    assert followup.event_data == {"bonus": 7, "type": "followup"}
    assert (followup.external_id, followup.participant_id) == ("alice", world.alice.id)
    assert followup.event_timestamp == AT + timedelta(hours=24)
    assert followup.next_attempt_at == origin.created_at + timedelta(hours=24)
    assert followup.idempotency_key == f"schedule:{origin.id}:later:0"
    # Its wake-up waits in Huey's schedule; neither a worker nor the reconciler runs it early.
    assert drain(queue) == 0 and queue.huey.scheduled_count() == 1
    assert not has_due(lane_of(followup))
    assert reconciler.reconcile(FAST, now=utcnow() + timedelta(hours=1)).events_woken == 0
    assert reload(followup).status == "PENDING"


def test_a_scheduled_event_runs_once_due_and_its_rules_apply(queue, world):
    add_rule(world, "later", "has(event.amount)", schedule("1h"))
    bonus_rule(world)
    world.event(key="e1", at=AT, amount=1.0)
    drain(queue)
    (followup,) = system_events()
    assert processor.drain_lane(lane_of(followup), FAST) == 0  # not due yet
    EventRecord.update(next_attempt_at=utcnow() - timedelta(seconds=FAST.reconcile_stale_s + 1)).where(
        EventRecord.id == followup.id
    ).execute()
    # Its delayed wake-up is still in Huey's schedule: the reconciler wakes the due row meanwhile.
    assert reconciler.reconcile(FAST).events_woken == 1
    drain(queue)
    followup = reload(followup)
    assert (followup.status, followup.attempts) == ("COMPLETED", 1)
    assert balance_of(world.alice) == "7"
    names = {e.rule_name: e.status for e in RuleEvaluation.select().where(RuleEvaluation.event == followup.id)}
    assert names.get("bonus") == "SUCCESS"
    assert len(system_events()) == 1  # the follow-up has no amount: it schedules nothing itself


def test_a_zero_delay_follow_up_runs_right_after_its_origin_in_the_same_lane(queue, world):
    add_rule(world, "now", "has(event.amount)", schedule("0s"), Credit(asset_id="PTS", amount="event.amount"))
    bonus_rule(world)
    origin = world.event(key="e1", at=AT, amount=2.0)
    assert processor.drain_lane(lane_of(origin), FAST) == 2
    (followup,) = system_events()
    assert (reload(origin).status, followup.status, followup.next_attempt_at) == ("COMPLETED", "COMPLETED", None)
    assert balance_of(world.alice) == "9"


def test_an_attempt_rolled_back_and_retried_schedules_once(queue, world):
    add_rule(world, "later", "has(event.amount)", schedule("24h"))
    origin = world.event(key="e1", at=AT, amount=1.0)
    calls: list[str] = []

    def fails_first_time(event: EventRecord) -> Applied:
        applied = default_pipeline(event)  # writes the follow-up...
        calls.append(event.id)
        if len(calls) == 1:
            raise RuntimeError("database went away")  # ...which this attempt's rollback removes
        return applied

    # FAST retries at once, so one drain runs both attempts.
    assert processor.drain_lane(lane_of(origin), FAST, fails_first_time) == 2
    assert calls == [origin.id, origin.id]
    assert (reload(origin).status, reload(origin).attempts, len(system_events())) == ("COMPLETED", 2, 1)


def test_writing_the_same_follow_ups_again_creates_nothing(queue, world):
    add_rule(world, "later", "has(event.amount)", schedule("24h"))
    origin = world.event(key="e1", at=AT, amount=1.0)
    processor.process_event_task(queue, origin.id)
    context = load_event_context(origin.id)
    result = evaluate_event(context.program, context.inputs)
    with write_transaction():
        assert followups.write_followups(reload(origin), result) == []
    assert len(system_events()) == 1
    assert AutomationRecord.select().count() == 1  # nor a second automation


def test_a_scheduled_follow_up_is_listed_as_a_read_only_automation_of_its_participant(queue, world):
    add_rule(world, "later", "has(event.amount)", schedule("24h"))
    origin = world.event(key="e1", at=AT, amount=1.0)
    assert drain(queue) == 1
    (followup,) = system_events()
    (automation,) = AutomationRecord.select()
    assert (automation.source, automation.scope, automation.trigger_type) == ("rule_action", "program", "one_time")
    assert (automation.name, automation.event_name, automation.payload) == (
        followup.idempotency_key,
        "followup",
        {"bonus": 7},
    )
    assert (automation.participant_id, automation.event_id) == (world.alice.id, followup.id)
    assert datetime.fromisoformat(automation.trigger["trigger_at"]) == followup.next_attempt_at
    assert automation.next_run_at is None and automation.processed_at is not None
    assert spec_of(automation).participant_id == world.alice.id  # it reads back as a spec
    assert fire_due_automations(utcnow() + timedelta(days=2)) == 0  # its event is the firing: nothing fires
    assert len(system_events()) == 1 and reload(origin).status == "COMPLETED"


def test_an_explicit_target_schedules_for_that_participant(queue, world):
    add_rule(
        world, "refer", "has(event.amount)", schedule("0s", target=Target(type="PARTICIPANT", external_id='"bob"'))
    )
    origin = world.event(key="e1", at=AT, amount=1.0)
    processor.process_event_task(queue, origin.id)
    (followup,) = system_events()
    assert (followup.external_id, followup.participant_id) == ("bob", world.bob.id)


def test_a_program_target_fails_the_event_and_schedules_nothing(queue, world):
    add_rule(world, "bad", "has(event.amount)", schedule("1h", target=Target(type="PROGRAM")))
    origin = world.event(key="e1", at=AT, amount=1.0)
    processor.process_event_task(queue, origin.id)
    assert (reload(origin).status, reload(origin).error_code, system_events()) == ("FAILED", "invalid_target", [])


def test_a_negative_delay_or_an_unknown_participant_id_fails_the_event(queue, world):
    add_rule(world, "back", "event.amount == 1.0", schedule("-1h"))
    add_rule(world, "ghost", "event.amount == 2.0", schedule("1h", target=Target(type="PARTICIPANT", id='"nobody"')))
    backwards = world.event(key="e1", at=AT, amount=1.0)
    ghost = world.event(key="e2", at=AT + timedelta(minutes=1), amount=2.0)
    drain(queue)
    assert [(reload(e).status, reload(e).error_code) for e in (backwards, ghost)] == [
        ("FAILED", "invalid_delay"),
        ("FAILED", "unknown_participant"),
    ]
    assert system_events() == []


def test_a_failed_event_schedules_nothing(queue, world):
    add_rule(world, "spend", "has(event.amount)", schedule("0s"), Debit(asset_id="PTS", amount="event.amount"))
    origin = world.event(key="e1", at=AT, amount=3.0)
    processor.process_event_task(queue, origin.id)
    assert (reload(origin).status, reload(origin).error_code) == ("FAILED", "insufficient_funds")
    assert system_events() == []


def enrol(world, *people) -> None:
    for person in people:
        Enrolment.get_or_create(participant=person, program=world.program)


def test_broadcast_reaches_every_enrolled_participant_once(queue, world):
    carol = Participant.create(organisation=world.org, external_id="carol")  # not enrolled: not reached
    enrol(world, world.alice, world.bob)
    add_rule(world, "all", "has(event.amount)", Broadcast(event_name="followup", payload={"bonus": 3}))
    bonus_rule(world)
    origin = world.event(key="e1", at=AT, amount=1.0)
    processor.process_event_task(queue, origin.id)
    drain(queue)
    events = system_events()
    assert [(e.external_id, e.status, e.event_timestamp) for e in events] == [
        ("alice", "COMPLETED", AT),
        ("bob", "COMPLETED", AT),
    ]
    assert {e.idempotency_key for e in events} == {
        f"broadcast:{origin.id}:all:0:{world.alice.id}",
        f"broadcast:{origin.id}:all:0:{world.bob.id}",
    }
    assert (balance_of(world.alice), balance_of(world.bob), balance_of(carol)) == ("3", "3", "0")


def test_a_broadcast_beyond_its_bound_fails_the_event(queue, world, monkeypatch):
    monkeypatch.setattr(followups, "BROADCAST_RECIPIENTS_MAX", 1)
    enrol(world, world.alice, world.bob)
    add_rule(world, "all", "has(event.amount)", Broadcast(event_name="followup"))
    origin = world.event(key="e1", at=AT, amount=1.0)
    processor.process_event_task(queue, origin.id)
    row = reload(origin)
    assert (row.status, row.error_code, system_events()) == ("FAILED", "limit_broadcast_recipients", [])


def test_a_long_rule_name_still_gets_a_key_that_fits():
    key = followups._key("schedule", "e" * 36, "r" * 255, 0)
    assert len(key) <= followups.KEY_LENGTH_MAX and key == followups._key("schedule", "e" * 36, "r" * 255, 0)
