"""engine.worker.subscriptions: participant_state automations subscribe participants by their
filter and fire on each participant's schedule exactly once, with the clock injected."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from engine.model.automation import AutomationSpec
from engine.model.bundle import Counter, Rule
from engine.model.result import ResolvedTarget, StateChange
from engine.store.automations import create_automation
from engine.store.catalog import create_rule
from engine.store.db import write_transaction
from engine.store.models import AutomationSubscription, EventRecord, Participant
from engine.store.owner_state import Origin, increment_counter, set_attribute
from engine.store.participants import enrol
from engine.worker import scheduler
from engine.worker.subscriptions import RETRIES_MAX, THRESHOLD_CHECK_EVERY, check_thresholds
from tests.engine.consumer import drain

T0 = datetime(2026, 1, 10, 12, tzinfo=UTC)


@pytest.fixture
def jobs(monkeypatch):
    """The automation jobs alone, in a registry of the test's own."""
    monkeypatch.setattr(scheduler, "JOBS", scheduler.Registry())
    scheduler.register_automation_jobs()


def register(jobs):
    """`jobs` registered them already: the tests name the fixture for what it does."""


def automation(world, schedule_type: str, *, name: str = "a", **fields) -> None:
    config = fields.pop("config")
    spec = {
        "name": name,
        "event_name": name,
        "scope": "participants",
        "trigger": {"type": "participant_state", "schedule_type": schedule_type, "schedule_config": config},
        **fields,
    }
    with write_transaction():
        create_automation(world.org.id, world.program.id, msgspec.convert(spec, AutomationSpec), now=T0)


def member(world, name: str, **attributes: str) -> Participant:
    with write_transaction():
        person = Participant.create(organisation=world.org, external_id=name)
        enrol(person.id, world.program.id)
        for key, value in attributes.items():
            set_attribute(world.org.id, "PARTICIPANT", person.id, key, value, Origin("api"))
    return person


def fired() -> list[tuple[str, datetime]]:
    rows = EventRecord.select().where(EventRecord.event_type == "SYSTEM").order_by(EventRecord.event_timestamp)
    return [(row.external_id, row.event_timestamp) for row in rows]


def test_birthdays_fire_on_the_day_each_year_once_for_those_the_filter_chose(jobs, queue, world):
    register(jobs)
    world.program.timezone = "Europe/London"
    world.program.save()
    member(world, "ann", birthday="1990-06-15")
    member(world, "bo", birthday="12-24")
    member(world, "cy")  # no birthday: not subscribed
    automation(
        world,
        "ATTRIBUTE_DATE",
        config={"attribute": "birthday", "time": "09:00"},
        participant_filter="has(participant.attributes.birthday)",
        payload={"bonus": 100},
    )
    scheduler.run_due(T0)
    assert sorted(s.participant.external_id for s in AutomationSubscription.select()) == ["ann", "bo"]
    assert fired() == []
    summer = datetime(2026, 6, 15, 8, tzinfo=UTC)  # 09:00 BST
    scheduler.run_due(summer - timedelta(minutes=1))
    assert fired() == []
    scheduler.run_due(summer)
    scheduler.run_due(summer + timedelta(hours=1))  # a second pass fires nothing again
    assert fired() == [("ann", summer)]
    assert EventRecord.get().event_data == {"bonus": 100, "type": "a"}
    scheduler.run_due(datetime(2027, 1, 1, tzinfo=UTC))
    assert fired() == [("ann", summer), ("bo", datetime(2026, 12, 24, 9, tzinfo=UTC))]
    ann = AutomationSubscription.get(
        AutomationSubscription.trigger_count == 1, AutomationSubscription.next_trigger_at > summer
    )
    assert ann.next_trigger_at == datetime(2027, 6, 15, 8, tzinfo=UTC)


def test_a_participant_the_filter_no_longer_chooses_is_cancelled_at_the_next_refresh(jobs, queue, world):
    register(jobs)
    ann = member(world, "ann", birthday="06-15", newsletter="yes")
    automation(
        world,
        "ATTRIBUTE_DATE",
        config={"attribute": "birthday"},
        participant_filter="participant.attributes.newsletter == 'yes'",
    )
    scheduler.run_due(T0)
    with write_transaction():
        set_attribute(world.org.id, "PARTICIPANT", ann.id, "newsletter", "no", Origin("api"))
    scheduler.run_due(T0 + timedelta(days=1, minutes=1))  # the daily refresh
    assert AutomationSubscription.get().status == "cancelled"
    scheduler.run_due(datetime(2026, 6, 16, tzinfo=UTC))
    assert fired() == []


def test_an_inactivity_nudge_counts_from_the_latest_event(jobs, queue, world):
    register(jobs)
    ann = member(world, "ann")
    automation(world, "INTERVAL", config={"interval": "720h", "since": "last_event"})
    scheduler.run_due(T0)
    with write_transaction():
        EventRecord.create(
            organisation=world.org, program=world.program, participant=ann, external_id="ann",
            idempotency_key="k1", payload_hash="h", event_data={"type": "purchase"},
            event_timestamp=T0 + timedelta(days=20), status="COMPLETED",
        )  # fmt: skip
    scheduler.run_due(T0 + timedelta(days=30, minutes=1))  # 30 days after subscribing: active since
    assert fired() == []
    scheduler.run_due(T0 + timedelta(days=50, minutes=1))
    assert fired() == [("ann", T0 + timedelta(days=50))]
    scheduler.run_due(T0 + timedelta(days=200))
    assert len(fired()) == 1  # once per stretch of inactivity


def test_a_threshold_fires_when_the_counter_meets_it(jobs, queue, world):
    register(jobs)
    ann = member(world, "ann")
    automation(world, "THRESHOLD", config={"counter": "visits", "threshold": 3})
    scheduler.run_due(T0)
    assert fired() == []
    with write_transaction():
        increment_counter(world.org.id, "PARTICIPANT", ann.id, "visits", Decimal(3), Origin("api"))
    later = T0 + THRESHOLD_CHECK_EVERY
    scheduler.run_due(later)
    scheduler.run_due(later + THRESHOLD_CHECK_EVERY)
    assert fired() == [("ann", later)]


def test_an_event_that_moves_the_counter_past_the_threshold_fires_in_its_own_transaction(jobs, queue, world):
    register(jobs)
    member(world, "ann")
    counter = Counter(key="visits", value=1)
    create_rule(
        world.org.id, world.program.id, Rule(name="visit", condition='event.type == "visit"', actions=[counter])
    )
    automation(world, "THRESHOLD", name="regular", config={"counter": "visits", "threshold": 3})
    scheduler.run_due(T0)  # subscribes ann
    for number in range(1, 5):
        world.event("ann", key=f"v{number}", at=T0, type="visit")
        drain(queue)
        assert len(fired()) == (1 if number >= 3 else 0)  # no scheduler pass in between
    (bonus,) = EventRecord.select().where(EventRecord.event_type == "SYSTEM")
    assert (bonus.event_data, bonus.status) == ({"type": "regular"}, "COMPLETED")  # processed in ann's lane
    (subscription,) = AutomationSubscription.select()
    assert (subscription.trigger_count, subscription.armed) == (1, False)
    scheduler.run_due(datetime.now(UTC) + THRESHOLD_CHECK_EVERY)  # the catch-up check finds nothing new
    assert len(fired()) == 1


def test_a_crossing_checked_by_two_paths_fires_once(jobs, queue, world):
    register(jobs)
    ann = member(world, "ann")
    automation(world, "THRESHOLD", config={"counter": "visits", "threshold": 1})
    scheduler.run_due(T0)
    with write_transaction():
        increment_counter(world.org.id, "PARTICIPANT", ann.id, "visits", Decimal(1), Origin("api"))
    change = StateChange(
        target=ResolvedTarget(type="PARTICIPANT", id=ann.id), state_type="counter", key="visits", operation="set"
    )
    origin = world.event("ann", key="e1", at=T0, enqueue=False)
    with write_transaction():
        assert check_thresholds(origin, [change], T0 + timedelta(minutes=1)) == 1
    scheduler.run_due(T0 + THRESHOLD_CHECK_EVERY * 2)  # the periodic check of the same subscription
    with write_transaction():
        check_thresholds(origin, [change], T0 + timedelta(minutes=2))
    assert fired() == [("ann", T0 + timedelta(minutes=1))]


def test_a_guard_that_keeps_erroring_fails_the_subscription(jobs, queue, world):
    register(jobs)
    member(world, "ann", birthday="01-20")
    automation(
        world, "ATTRIBUTE_DATE", config={"attribute": "birthday"}, guard_condition="int(participant.attributes.x) > 0"
    )
    scheduler.run_due(T0)  # subscribed: due on 20 January
    for day in range(RETRIES_MAX):
        assert AutomationSubscription.get().status == "active"
        scheduler.run_due(datetime(2026, 1, 20 + day, tzinfo=UTC))
    subscription = AutomationSubscription.get()
    assert subscription.status == "failed" and "guard_condition" in subscription.last_error
    assert fired() == []


def test_schedulers_running_at_once_fire_each_occurrence_once(jobs, queue, world, db):
    people = [member(world, f"m{i:02d}", birthday="03-01") for i in range(40)]
    automation(world, "ATTRIBUTE_DATE", config={"attribute": "birthday"}, name="birthday")
    spec = {"name": "daily", "event_name": "daily", "scope": "participants", "trigger": {"type": "immediate"}}
    with write_transaction():
        create_automation(world.org.id, world.program.id, msgspec.convert(spec, AutomationSpec), now=T0)
    scheduler.run_due(T0)  # subscribes, and fires the immediate one: 40 events
    birthday = datetime(2026, 3, 1, tzinfo=UTC)
    start, errors = threading.Barrier(4), []

    def sweep():
        try:
            with db.connection_context():
                start.wait()
                scheduler.run_due(birthday)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    keys = [row.idempotency_key for row in EventRecord.select()]
    assert len(keys) == len(set(keys)) == 2 * len(people)
    assert sorted(name for name, moment in fired() if moment == birthday) == sorted(p.external_id for p in people)
    assert {s.trigger_count for s in AutomationSubscription.select()} == {1}
