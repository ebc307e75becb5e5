"""Rollovers of members who hold no level: scheduled by their qualifying progress, applied once per
period end (NONE and EXCESS, calendar and fixed years, late sweeps, racing sweepers), carried on
after a level is removed, handed over to a level set later, and applied first by an event."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from engine.evaluator.evaluate import evaluate_event
from engine.model.bundle import Counter, Rule, TierType
from engine.store import owner_state, tier_rollovers, tier_sweeps
from engine.store.catalog import create_rule
from engine.store.context import load_event_context
from engine.store.db import database_proxy, utcnow, write_transaction
from engine.store.effects import post_event_effects
from engine.store.models import (
    Enrolment,
    Participant,
    ParticipantTier,
    Program,
    StateCounter,
    StateHistory,
    TierRollover,
)
from engine.store.tier_types import create_tier_type, update_tier_type
from tests.engine.world import store_event

SET_AT = datetime(2026, 3, 1, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def status_tier(world, rollover: str, period: dict | None = None):
    spec = msgspec.convert(
        {
            "key": "status",
            "levels": [
                {
                    "key": "silver",
                    "rank": 1,
                    "qualification": {"criteria": [{"counter": "miles", "operator": ">=", "threshold": 25000}]},
                },
                {
                    "key": "gold",
                    "rank": 2,
                    "qualification": {"criteria": [{"counter": "miles", "operator": ">=", "threshold": 50000}]},
                },
            ],
            "lifecycle": {
                "retention": {"mode": "PERIOD_BASED"},
                "qualification_period": period or {"type": "CALENDAR_YEAR"},
                "downgrade_policy": {"mode": "DROP_TO_QUALIFYING"},
                "counters": {"qualifying": ["miles"], "rollover": rollover},
            },
        },
        TierType,
    )
    return create_tier_type(world.org.id, world.program.id, spec)


def enrol(world, *people) -> None:
    for person in people or (world.alice, world.bob):
        Enrolment.create(participant=person, program=world.program)


def set_miles(world, person, miles: int, at: datetime = SET_AT) -> None:
    with write_transaction():
        origin = owner_state.Origin(program_id=world.program.id, at=at)
        owner_state.set_counter(world.org.id, "PARTICIPANT", person.id, "miles", Decimal(miles), origin)


def miles_of(person) -> Decimal:
    return StateCounter.get((StateCounter.owner_id == person.id) & (StateCounter.key == "miles")).value


def schedule_of(person) -> datetime | None:
    row = TierRollover.get_or_none(TierRollover.participant == person.id)
    return None if row is None else row.period_ends_at


def rollover_history(person) -> list[tuple]:
    rows = StateHistory.select().where(
        (StateHistory.owner_id == person.id)
        & (StateHistory.state_type == "counter")
        & (StateHistory.reason.is_null(False))
    )
    return [(h.operation, h.old_value, h.new_value, h.reason) for h in rows.order_by(StateHistory.id)]


def test_a_member_without_a_level_has_their_counters_reset_once_at_the_period_end_under_none(world):
    status_tier(world, "NONE")
    enrol(world)
    set_miles(world, world.alice, 30000)
    assert schedule_of(world.alice) == utc(2027, 1, 1)
    assert schedule_of(world.bob) is None  # no progress, nothing to roll over
    assert tier_rollovers.count_due_rollovers(utc(2026, 12, 31, 23, 59)) == 0
    assert tier_rollovers.roll_over_due_members(utc(2026, 12, 31, 23, 59)) == 0
    assert tier_rollovers.count_due_rollovers(utc(2027, 1, 1)) == 1
    assert tier_rollovers.roll_over_due_members(utc(2027, 1, 1)) == 1
    assert tier_rollovers.roll_over_due_members(utc(2027, 1, 1)) == 0  # applied once
    assert miles_of(world.alice) == 0
    assert rollover_history(world.alice) == [("auto_reset", "30000", "0", "PERIOD_END")]
    assert schedule_of(world.alice) is None  # nothing left to carry: the row goes
    assert ParticipantTier.select().count() == 0  # rollover never gives a level
    set_miles(world, world.alice, 100, at=utc(2027, 2, 1))
    assert schedule_of(world.alice) == utc(2028, 1, 1)  # new progress, the next period end


def test_excess_carries_over_a_fixed_year_in_the_program_zone_and_a_late_sweep_applies_each_end(world):
    Program.update(timezone="Asia/Tokyo").where(Program.id == world.program.id).execute()
    status_tier(world, "EXCESS", {"type": "FIXED_YEAR", "start_month": 4, "start_day": 1})
    enrol(world)
    set_miles(world, world.alice, 30000)  # silver's 25,000 met, but no level is held
    april_in_tokyo = utc(2026, 3, 31, 15)
    assert schedule_of(world.alice) == april_in_tokyo
    assert tier_rollovers.roll_over_due_members(utc(2026, 3, 31, 14, 59)) == 0
    assert tier_rollovers.roll_over_due_members(april_in_tokyo) == 1
    assert miles_of(world.alice) == Decimal(5000)  # what exceeded silver's threshold
    assert schedule_of(world.alice) == utc(2027, 3, 31, 15)
    set_miles(world, world.bob, 60000)
    # a sweep two years late: bob's 60,000 -> 10,000 over gold, then 0 (no level earned)
    assert tier_rollovers.roll_over_due_members(utc(2028, 6, 1)) == 2
    assert (miles_of(world.alice), miles_of(world.bob)) == (0, 0)
    assert rollover_history(world.bob) == [
        ("auto_reset", "60000", "0", "PERIOD_END"),  # one write for both ends; the history says where it landed
    ]
    assert TierRollover.select().count() == 0


def test_a_level_removed_leaves_its_period_to_the_member_and_the_counters_still_roll_over(world):
    record = status_tier(world, "NONE")
    enrol(world)
    with write_transaction():
        origin = owner_state.Origin(program_id=world.program.id, at=SET_AT)
        owner_state.set_tier(
            world.org.id, world.alice.id, record, "gold", 2, origin, reason="API", expires_at=utc(2027, 1, 1)
        )
    set_miles(world, world.alice, 30000)
    assert schedule_of(world.alice) is None  # the level's row schedules the period end
    # the level expires at the very instant its period ends: its review removes it without rolling over
    assert tier_sweeps.review_due_tiers(utc(2027, 1, 1)) == 1
    assert ParticipantTier.select().count() == 0
    assert schedule_of(world.alice) == utc(2027, 1, 1)
    assert tier_rollovers.roll_over_due_members(utc(2027, 1, 1)) == 1
    assert miles_of(world.alice) == 0
    assert [h[3] for h in rollover_history(world.alice)] == ["PERIOD_END"]


def test_a_level_set_later_takes_the_schedule_over_after_what_was_due(world):
    record = status_tier(world, "EXCESS")
    enrol(world)
    set_miles(world, world.alice, 30000)
    with write_transaction():  # the sweep is late: the rollover of January 1 is still owed
        origin = owner_state.Origin(program_id=world.program.id, at=utc(2027, 1, 5))
        owner_state.set_tier(world.org.id, world.alice.id, record, "gold", 2, origin, reason="API")
    assert miles_of(world.alice) == Decimal(5000)
    assert schedule_of(world.alice) is None
    level = ParticipantTier.get(ParticipantTier.participant == world.alice.id)
    assert (level.level, level.period_ends_at) == ("gold", utc(2028, 1, 1))


def test_racing_sweepers_roll_each_member_over_once(world, fresh_db):
    status_tier(world, "NONE")
    people = [Participant.create(organisation=world.org, external_id=f"m{i}") for i in range(90)]
    enrol(world, *people)
    for person in people:
        set_miles(world, person, 1000)
    taken: list[int] = []

    def sweep():
        with database_proxy.connection_context():
            while done := tier_rollovers.roll_over_due_members(utc(2027, 1, 1), limit=20):
                taken.append(done)

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert StateHistory.select().where(StateHistory.reason == "PERIOD_END").count() == 90
    assert {row.value for row in StateCounter.select()} == {Decimal(0)}
    assert TierRollover.select().count() == 0
    assert sum(taken) >= 90  # a row another sweeper took meanwhile counts as taken up


def test_an_event_schedules_progress_and_a_late_event_rolls_over_before_it_counts(world):
    status_tier(world, "NONE")
    create_rule(
        world.org.id, world.program.id, Rule(name="fly", condition="true", actions=[Counter(key="miles", value=1000)])
    )

    def process(received: datetime):
        event = store_event(world, created_at=received)
        with write_transaction():
            context = load_event_context(event.id)
        result = evaluate_event(context.program, context.inputs)
        assert post_event_effects(event.id, result).status == "COMPLETED"
        return context

    this_year = utcnow().year
    process(utc(this_year - 1, 6, 1))
    assert schedule_of(world.alice) == utc(this_year, 1, 1)
    context = process(utcnow())  # after that period end, before any sweep
    assert context.inputs.participant.counters["miles"].value == 0  # last year's progress is gone
    assert miles_of(world.alice) == 1000  # this event counts toward this year
    assert schedule_of(world.alice) == utc(this_year + 1, 1, 1)


def test_the_worker_s_pipeline_schedules_a_member_once_and_rolls_over_first(world):
    from engine.store.models import EventRecord
    from engine.worker.pipeline import default_pipeline

    status_tier(world, "EXCESS")
    create_rule(
        world.org.id, world.program.id, Rule(name="fly", condition="true", actions=[Counter(key="miles", value=1000)])
    )

    def process(received: datetime) -> None:
        event = store_event(world, created_at=received)
        with write_transaction():
            assert default_pipeline(EventRecord.get_by_id(event.id)).status == "COMPLETED"

    this_year = utcnow().year
    process(utc(this_year - 1, 6, 1))
    process(utc(this_year - 1, 7, 1))  # scheduled already: kept
    assert schedule_of(world.alice) == utc(this_year, 1, 1)
    assert TierRollover.select().count() == 1
    process(utcnow())
    assert miles_of(world.alice) == 1000  # 2,000 rolled over to 0 first (no level earned)
    assert schedule_of(world.alice) == utc(this_year + 1, 1, 1)


def test_members_with_counters_before_the_tier_rolled_them_over_are_scheduled_with_it(world):
    enrol(world)
    set_miles(world, world.alice, 30000)
    set_miles(world, world.bob, 30000)
    status_tier(world, "NONE")
    created_year = utcnow().year
    assert schedule_of(world.alice) == schedule_of(world.bob) == utc(created_year + 1, 1, 1)
    TierRollover.delete().execute()
    update_tier_type(world.org.id, world.program.id, "status", {"lifecycle": {}})  # no rollover now
    assert TierRollover.select().count() == 0
    lifecycle = {
        "retention": {"mode": "PERIOD_BASED"},
        "qualification_period": {"type": "CALENDAR_YEAR"},
        "counters": {"qualifying": ["miles"]},
    }
    update_tier_type(world.org.id, world.program.id, "status", {"lifecycle": lifecycle})
    assert TierRollover.select().count() == 2


def test_a_group_without_a_level_has_its_counters_rolled_over_and_a_level_set_later_takes_over(world):
    from engine.store import groups
    from engine.store.models import GroupTier, GroupTierRollover

    record = status_tier(world, "EXCESS")
    group = groups.create_group(world.org.id, "Smiths", [groups.Member(world.alice.id, groups.ADMIN)])
    with write_transaction():  # a group is enrolled in nothing: its organisation's programs count
        origin = owner_state.Origin(program_id=world.program.id, at=SET_AT)
        owner_state.set_counter(world.org.id, "GROUP", group.id, "miles", Decimal(30000), origin)
    (row,) = GroupTierRollover.select()
    assert (row.group_id, row.period_ends_at) == (group.id, utc(2027, 1, 1))
    assert TierRollover.select().count() == 0
    assert tier_rollovers.count_due_rollovers(utc(2027, 1, 1)) == 1
    assert tier_rollovers.roll_over_due_members(utc(2027, 1, 1)) == 1
    assert tier_rollovers.roll_over_due_members(utc(2027, 1, 1)) == 0  # applied once
    assert miles_of(group) == Decimal(5000)  # EXCESS over silver's 25,000
    assert rollover_history(group) == [("auto_reset", "30000", "5000", "PERIOD_END")]
    assert GroupTierRollover.get().period_ends_at == utc(2028, 1, 1)  # 5,000 left to carry
    with write_transaction():
        origin = owner_state.Origin(program_id=world.program.id, at=utc(2028, 2, 1))
        owner_state.set_tier(world.org.id, group.id, record, "gold", 2, origin, reason="API", owner_type="GROUP")
    assert miles_of(group) == 0  # what was due rolled over first, then the level's row schedules it
    assert GroupTierRollover.select().count() == 0
    assert GroupTier.get().period_ends_at == utc(2029, 1, 1)
