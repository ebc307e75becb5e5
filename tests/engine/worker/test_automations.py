"""engine.worker.automations: firings claimed once, fanned out in batches that resume after a
crash, failures that pause a cron automation; the clock is injected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec

from engine.model.automation import AutomationSpec
from engine.model.bundle import Counter, Credit, Rule, Target
from engine.store.automations import cancel_execution, create_automation, event_key, set_status
from engine.store.catalog import create_rule
from engine.store.db import write_transaction
from engine.store.models import PROGRAM, AutomationRecord, EventRecord, Participant, StateCounter
from engine.store.owner_state import Origin, set_attribute
from engine.store.participants import enrol
from engine.worker import automations as automation_runs
from engine.worker.automations import fire_due_automations
from tests.engine.consumer import drain

from .test_processor import balance_of

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def spec(**fields) -> AutomationSpec:
    base = {
        "name": "nudge",
        "event_name": "nudge",
        "scope": "participants",
        "payload": {"channel": "email"},
        "trigger": {"type": "cron", "cron_expression": "0 9 * * *", "timezone": "Europe/London"},
    }
    return msgspec.convert(base | fields, AutomationSpec)


def create(world, **fields) -> AutomationRecord:
    with write_transaction():
        return create_automation(world.org.id, world.program.id, spec(**fields), now=T0)


def members(world, count: int) -> list[Participant]:
    with write_transaction():
        people = [Participant.create(organisation=world.org, external_id=f"m{i:05d}") for i in range(count)]
        for person in people:
            enrol(person.id, world.program.id)
    return people


def reload(record: AutomationRecord) -> AutomationRecord:
    return AutomationRecord.get_by_id(record.id)


def events() -> list[EventRecord]:
    return list(EventRecord.select().order_by(EventRecord.participant))


def test_a_cron_firing_creates_one_system_event_per_participant_once(world, queue):
    people = members(world, 3)
    record = create(world)
    assert record.next_run_at == datetime(2026, 3, 2, 9, tzinfo=UTC)  # 09:00 GMT
    assert fire_due_automations(T0) == 0
    assert fire_due_automations(datetime(2026, 3, 2, 9, 30, tzinfo=UTC)) == 2  # the start, one batch
    found = events()
    assert [(e.participant_id, e.event_type, e.event_data) for e in found] == [
        (person.id, "SYSTEM", {"channel": "email", "type": "nudge"}) for person in people
    ]
    fire_at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert {e.event_timestamp for e in found} == {fire_at}
    assert found[0].idempotency_key == event_key(record.id, fire_at, people[0].id)
    done = reload(record)
    assert (done.execution_status, done.participants_total, done.participants_processed) == ("completed", 3, 3)
    assert done.last_run_at == fire_at and done.events_created == 3
    # after the clocks change, 09:00 London is 08:00 UTC; nothing fires twice in between
    assert fire_due_automations(datetime(2026, 3, 2, 23, tzinfo=UTC)) == 0
    assert done.next_run_at == datetime(2026, 3, 3, 9, tzinfo=UTC)
    assert fire_due_automations(datetime(2026, 3, 30, 9, tzinfo=UTC)) == 2  # missed days: one firing
    assert reload(record).last_run_at == datetime(2026, 3, 3, 9, tzinfo=UTC)
    assert reload(record).next_run_at == datetime(2026, 3, 31, 8, tzinfo=UTC)
    assert len(events()) == 6


def test_the_filter_and_the_guard_choose_who_gets_an_event(world, queue):
    people = members(world, 3)
    with write_transaction():
        set_attribute(world.org.id, "PARTICIPANT", people[1].id, "tier", "gold", Origin("api"))
        set_attribute(world.org.id, "PARTICIPANT", people[2].id, "tier", "silver", Origin("api"))
    create(
        world,
        trigger={"type": "one_time", "trigger_at": "2026-03-01T10:00:00Z"},  # already past: fires at once
        participant_filter="has(participant.attributes.tier)",
        guard_condition="participant.attributes.tier == 'gold'",
    )
    assert fire_due_automations(T0) == 2
    assert [e.participant_id for e in events()] == [people[1].id]
    (record,) = AutomationRecord.select()
    assert record.next_run_at is None and record.processed_at == T0
    assert fire_due_automations(T0 + timedelta(days=400)) == 0  # a one_time fires once


def test_a_fan_out_resumes_after_a_crash_and_creates_each_event_once(world, queue, monkeypatch):
    monkeypatch.setattr(automation_runs, "FANOUT_BATCH", 4)
    people = members(world, 10)
    record = create(world, trigger={"type": "immediate"})
    calls = {"n": 0}
    real = automation_runs.write_system_events

    def crash_on_the_second_batch(*args):
        calls["n"] += 1
        written = real(*args)
        if calls["n"] == 2:
            raise RuntimeError("killed")
        return written

    monkeypatch.setattr(automation_runs, "write_system_events", crash_on_the_second_batch)
    fire_due_automations(T0, limit=2)  # the start and the first batch
    assert len(events()) == 4
    fire_due_automations(T0, limit=1)  # the second batch is written, then the transaction dies
    assert len(events()) == 4
    crashed = reload(record)
    assert (crashed.execution_status, crashed.participants_processed, crashed.failures) == ("executing", 4, 1)
    assert crashed.last_error == "RuntimeError: killed"
    assert fire_due_automations(T0) == 2  # the second batch again, then the last two participants
    assert sorted(e.participant_id for e in events()) == sorted(p.id for p in people)
    done = reload(record)
    assert (done.execution_status, done.participants_processed, done.events_created) == ("completed", 10, 10)
    assert done.failures == 0


def test_a_cancelled_fan_out_keeps_the_events_made_and_makes_no_more(world, queue, monkeypatch):
    monkeypatch.setattr(automation_runs, "FANOUT_BATCH", 2)
    members(world, 5)
    record = create(world, trigger={"type": "immediate"})
    fire_due_automations(T0, limit=2)
    with write_transaction():
        cancelled = cancel_execution(reload(record), now=T0)
    assert (cancelled.execution_status, cancelled.execution_error) == ("failed", "cancelled")
    assert fire_due_automations(T0 + timedelta(hours=1)) == 0
    assert len(events()) == 2
    assert reload(record).status == "active"


def test_a_paused_automation_does_not_fire_and_resumes_from_the_resume_time(world, queue):
    members(world, 1)
    record = create(world)
    with write_transaction():
        set_status(reload(record), "paused", now=T0)
    assert fire_due_automations(datetime(2026, 3, 10, tzinfo=UTC)) == 0
    with write_transaction():
        resumed = set_status(reload(record), "active", now=datetime(2026, 3, 10, tzinfo=UTC))
    assert resumed.next_run_at == datetime(2026, 3, 10, 9, tzinfo=UTC)
    assert fire_due_automations(datetime(2026, 3, 10, 9, tzinfo=UTC)) == 2
    assert len(events()) == 1


def test_repeated_failures_pause_a_cron_automation_with_its_last_error(world, queue):
    members(world, 2)
    record = create(world, guard_condition="int(participant.attributes.missing) > 0")
    moment = record.next_run_at
    for day in range(automation_runs.FAILURES_MAX):
        assert reload(record).status == "active"
        fire_due_automations(moment + timedelta(days=day, minutes=1))
    failed = reload(record)
    assert failed.status == "paused" and failed.execution_status == "failed"
    assert failed.last_error.startswith(f"paused after {automation_runs.FAILURES_MAX} consecutive failures: ")
    assert "guard_condition" in failed.last_error
    assert events() == []


def test_two_passes_at_once_start_a_firing_once(world, queue):
    members(world, 1)
    record = create(world, trigger={"type": "immediate"})
    assert automation_runs._start(record.id, T0) == 1
    assert automation_runs._start(record.id, T0) == 0  # claimed already: no longer due


def program_rules(world, *, needs_participant: bool) -> None:
    """`drop` counts on the program and credits bob (explicit targets); `kickoff`, without a
    target, needs the event's participant."""
    bob = Target(type="PARTICIPANT", external_id="'bob'")
    actions = [
        Counter(key="drops", value="event.points", target=Target(type="PROGRAM")),
        Credit(asset_id="PTS", amount="event.points", target=bob),
    ]
    create_rule(world.org.id, world.program.id, Rule(name="drop", condition='event.type == "drop"', actions=actions))
    if needs_participant:
        own = Credit(asset_id="PTS", amount="event.points")
        create_rule(world.org.id, world.program.id, Rule(name="kickoff", condition="true", actions=[own], order=2))


def program_drops(world) -> Decimal:
    found = StateCounter.get_or_none((StateCounter.owner_type == PROGRAM) & (StateCounter.key == "drops"))
    return found.value if found is not None else Decimal(0)


def test_a_program_scope_cron_firing_is_one_event_of_no_participant_once(world, queue):
    members(world, 3)
    program_rules(world, needs_participant=False)
    record = create(world, name="drop", event_name="drop", scope="program", payload={"points": 5})
    fire_at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert fire_due_automations(fire_at) == 1  # the start is the whole firing: no fan-out
    assert fire_due_automations(fire_at) == 0  # the scheduler's job again: claimed already
    # as if the claim were lost after the event committed: the key still makes it one event
    AutomationRecord.update(next_run_at=fire_at).where(AutomationRecord.id == record.id).execute()
    assert fire_due_automations(fire_at) == 1
    (event,) = events()
    assert (event.participant_id, event.external_id, event.event_type) == (None, None, "SYSTEM")
    assert event.idempotency_key == event_key(record.id, fire_at, "program")
    assert event.event_data == {"points": 5, "type": "drop"}
    done = reload(record)
    assert (done.execution_status, done.participants_total, done.events_created) == ("completed", None, 0)
    assert drain(queue) == 1
    event = EventRecord.get_by_id(event.id)
    assert (event.status, event.error_code) == ("COMPLETED", None), event.error_message
    assert program_drops(world) == Decimal(5) and balance_of(world.bob) == "5"


def test_a_program_event_whose_rule_needs_a_participant_fails_with_its_code(world, queue):
    program_rules(world, needs_participant=True)
    create(world, name="drop", event_name="drop", scope="program", payload={"points": 5})
    assert fire_due_automations(datetime(2026, 3, 2, 9, tzinfo=UTC)) == 1
    assert drain(queue) == 1
    (event,) = events()
    assert (event.status, event.error_code) == ("FAILED", "participant_required")
    assert program_drops(world) == Decimal(0) and balance_of(world.bob) == "0"  # a failed event applies nothing


def test_a_program_scope_one_time_automation_for_one_participant_fires_in_its_lane(world, queue):
    program_rules(world, needs_participant=True)
    once = {"type": "one_time", "trigger_at": "2026-03-01T10:00:00Z"}
    guarded = create(world, name="guarded", scope="program", trigger=once, guard_condition="now.getHours() > 23")
    record = create(world, name="for_alice", event_name="drop", scope="program", trigger=once,
                    payload={"points": 2}, participant_id=world.alice.id)  # fmt: skip
    assert fire_due_automations(T0) == 2
    (event,) = events()  # the guard of `guarded` was false at its firing
    assert (event.participant_id, event.external_id) == (world.alice.id, "alice")
    assert event.idempotency_key == event_key(record.id, datetime(2026, 3, 1, 10, tzinfo=UTC), world.alice.id)
    assert reload(guarded).execution_status == "completed" and reload(guarded).processed_at == T0
    assert drain(queue) == 1
    assert EventRecord.get_by_id(event.id).status == "COMPLETED"
    assert balance_of(world.alice) == "2"  # `kickoff` credited the event's participant
    assert program_drops(world) == Decimal(2) and balance_of(world.bob) == "2"


def test_a_program_scope_guard_that_keeps_erroring_pauses_the_cron_automation(world, queue):
    record = create(world, scope="program", guard_condition="int(program.attributes.level) > 0")
    for day in range(2, 2 + automation_runs.FAILURES_MAX):
        assert fire_due_automations(datetime(2026, 3, day, 9, 30, tzinfo=UTC)) == 1
    failed = reload(record)
    assert (failed.status, failed.execution_status) == ("paused", "failed")
    assert failed.last_error.startswith(f"paused after {automation_runs.FAILURES_MAX} consecutive failures: ")
    assert events() == []
