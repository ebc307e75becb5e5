"""The tier sweep: due levels reviewed once each, in batches, with history, rollover and moves;
schedules written when a level is set; concurrent sweepers never review a level twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from engine.model.bundle import TierType
from engine.model.qualification_periods import CALENDAR_YEAR, next_boundary
from engine.store import owner_state, tier_sweeps
from engine.store.db import database_proxy, write_transaction
from engine.store.models import Participant, ParticipantTier, Program, StateCounter, StateHistory
from engine.store.tier_types import archive_tier_type, create_tier_type, update_tier_type

SET_AT = datetime(2026, 3, 1, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def status_tier(world, lifecycle: dict):
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
            "lifecycle": lifecycle,
        },
        TierType,
    )
    return create_tier_type(world.org.id, world.program.id, spec)


YEARLY_DROP_ONE = {
    "retention": {"mode": "PERIOD_BASED"},
    "qualification_period": {"type": "CALENDAR_YEAR"},
    "downgrade_policy": {"mode": "DROP_ONE"},
    "counters": {"qualifying": ["miles"], "rollover": "EXCESS"},
}


def put_gold(world, record, person=None, *, miles: int = 0, at: datetime = SET_AT, expires_at=None):
    person = person or world.alice
    with write_transaction():
        origin = owner_state.Origin(program_id=world.program.id, at=at)
        move = owner_state.set_tier(
            world.org.id, person.id, record, "gold", 2, origin, reason="API", expires_at=expires_at
        )
        if miles:
            owner_state.set_counter(world.org.id, "PARTICIPANT", person.id, "miles", Decimal(miles), origin)
    return move


def level_of(person) -> ParticipantTier | None:
    return ParticipantTier.get_or_none(ParticipantTier.participant == person.id)


def test_setting_a_level_schedules_its_period_end_in_the_program_zone(world):
    Program.update(timezone="Asia/Tokyo").where(Program.id == world.program.id).execute()
    record = status_tier(world, YEARLY_DROP_ONE)
    move = put_gold(world, record)
    assert (move.old_level, move.new_level, move.reason) == (None, "gold", "API")
    row = level_of(world.alice)
    assert row.period_ends_at == utc(2026, 12, 31, 15) == row.due_at
    assert put_gold(world, record) is None  # the same level: nothing moves


def test_a_period_end_is_applied_once_with_history_rollover_and_the_move(world):
    record = status_tier(world, YEARLY_DROP_ONE)
    put_gold(world, record, miles=30000)
    seen = []
    assert tier_sweeps.review_due_tiers(utc(2026, 12, 31), on_moved=seen.extend) == 0
    assert tier_sweeps.count_due_tiers(utc(2027, 1, 1)) == 1
    assert tier_sweeps.review_due_tiers(utc(2027, 1, 1), on_moved=seen.extend) == 1
    assert tier_sweeps.review_due_tiers(utc(2027, 1, 1), on_moved=seen.extend) == 0
    (move,) = seen
    assert (move.old_level, move.new_level, move.reason, move.at) == ("gold", "silver", "PERIOD_END", utc(2027, 1, 1))
    assert move.organisation_id == world.org.id
    row = level_of(world.alice)
    assert (row.level, row.rank, row.acquired_at, row.due_at) == ("silver", 1, utc(2027, 1, 1), utc(2028, 1, 1))
    counter = StateCounter.get(StateCounter.key == "miles")
    assert counter.value == Decimal(5000)  # EXCESS over silver's 25,000
    history = [
        (h.state_type, h.operation, h.old_value, h.new_value, h.reason)
        for h in StateHistory.select().where(StateHistory.reason == "PERIOD_END").order_by(StateHistory.id)
    ]
    assert history == [
        ("tier", "set", "gold", "silver", "PERIOD_END"),
        ("counter", "auto_reset", "30000", "5000", "PERIOD_END"),
    ]


def test_an_expired_level_is_removed_and_gone_at_read_time_before_the_sweep(world):
    record = status_tier(world, {})
    put_gold(world, record, expires_at=utc(2026, 6, 1))
    assert level_of(world.alice).due_at == utc(2026, 6, 1)
    person = Participant.get_by_id(world.alice.id)
    assert owner_state.participant_state(person, world.program.id, {}).tiers == {}  # now is past June 2026
    seen = []
    assert tier_sweeps.review_due_tiers(utc(2026, 6, 1), on_moved=seen.extend) == 1
    assert [(m.old_level, m.new_level, m.reason) for m in seen] == [("gold", None, "EXPIRY")]
    assert level_of(world.alice) is None
    (history,) = StateHistory.select().where(StateHistory.reason == "EXPIRY")
    assert (history.operation, history.old_value, history.new_value) == ("delete", "gold", None)


def test_an_archived_tier_keeps_its_levels_but_still_expires_them(world):
    record = status_tier(world, YEARLY_DROP_ONE)
    put_gold(world, record)
    put_gold(world, record, world.bob, expires_at=utc(2026, 6, 1))
    archive_tier_type(world.org.id, world.program.id, "status")
    seen = []
    assert tier_sweeps.review_due_tiers(utc(2030, 1, 1), on_moved=seen.extend) == 2
    assert [(m.participant_id, m.reason) for m in seen] == [(world.bob.id, "EXPIRY")]
    alice = level_of(world.alice)
    assert (alice.level, alice.due_at) == ("gold", None)


def test_a_new_level_cancels_a_pending_drop_and_keeps_the_period(world):
    record = status_tier(world, {**YEARLY_DROP_ONE, "downgrade_policy": {"mode": "DROP_ONE", "grace_days": 30}})
    put_gold(world, record)
    assert tier_sweeps.review_due_tiers(utc(2027, 1, 1)) == 1
    pending = level_of(world.alice)
    assert (pending.level, pending.pending_drop, pending.due_at, pending.downgrade_to) == (
        "gold",
        True,
        utc(2027, 1, 31),
        "silver",
    )
    with write_transaction():
        origin = owner_state.Origin(program_id=world.program.id, at=utc(2027, 1, 10))
        owner_state.set_tier(world.org.id, world.alice.id, record, "silver", 1, origin, reason="RULE")
    row = level_of(world.alice)
    assert (row.level, row.pending_drop, row.review_at, row.period_ends_at) == ("silver", False, None, utc(2028, 1, 1))


def test_levels_go_in_batches_and_concurrent_sweepers_review_each_once(world, fresh_db):
    record = status_tier(world, YEARLY_DROP_ONE)
    people = [Participant.create(organisation=world.org, external_id=f"m{i}") for i in range(120)]
    for person in people:
        put_gold(world, record, person)
    seen: list = []
    lock = threading.Lock()

    def collect(moves):
        with lock:
            seen.extend(moves)

    def sweep():
        with database_proxy.connection_context():
            while tier_sweeps.review_due_tiers(utc(2027, 1, 1), limit=30, on_moved=collect):
                pass

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m.participant_id for m in seen) == sorted(p.id for p in people)
    assert {row.level for row in ParticipantTier.select()} == {"silver"}
    assert StateHistory.select().where(StateHistory.reason == "PERIOD_END").count() == 120


def test_a_changed_lifecycle_reaches_the_levels_already_held(world):
    from engine.store.tier_types import update_tier_type

    record = status_tier(world, {})
    put_gold(world, record)
    assert level_of(world.alice).due_at is None  # a rules-only tier schedules nothing
    update_tier_type(world.org.id, world.program.id, "status", {"lifecycle": YEARLY_DROP_ONE})
    due = level_of(world.alice).due_at
    assert due is not None
    assert tier_sweeps.review_due_tiers(due) == 1
    row = level_of(world.alice)
    expected_end = next_boundary(CALENDAR_YEAR, due, UTC)
    assert (row.level, row.period_ends_at, row.due_at) == ("gold", expected_end, expected_end)
    update_tier_type(world.org.id, world.program.id, "status", {"display_name": "Status"})
    assert level_of(world.alice).due_at == row.period_ends_at  # a change that leaves the lifecycle: nothing due


def test_a_level_that_cannot_be_reviewed_is_logged_left_due_and_holds_up_no_other(world, monkeypatch, caplog):
    record = status_tier(world, YEARLY_DROP_ONE)
    put_gold(world, record)
    put_gold(world, record, world.bob)
    real = tier_sweeps.review

    def broken_for_bob(tier, standing, counters, at, tz):
        outcome = real(tier, standing, counters, at, tz)
        if counters.get("broken"):
            raise RuntimeError("boom")
        return outcome

    with write_transaction():
        origin = owner_state.Origin(program_id=world.program.id, at=SET_AT)
        owner_state.set_counter(world.org.id, "PARTICIPANT", world.bob.id, "broken", Decimal(1), origin)
    monkeypatch.setattr(tier_sweeps, "review", broken_for_bob)
    seen: list = []
    assert tier_sweeps.review_due_tiers(utc(2027, 1, 1), on_moved=seen.extend) == 1
    assert [m.participant_id for m in seen] == [world.alice.id]
    assert "could not be reviewed" in caplog.text
    assert level_of(world.bob).level == "gold" and level_of(world.bob).due_at == utc(2027, 1, 1)
    assert StateHistory.select().where(StateHistory.reason == "PERIOD_END").count() == 1


def test_a_lifecycle_stored_before_it_was_checked_runs_as_none(world):
    from engine.store.models import TierTypeRecord
    from engine.store.tier_types import tier_to_bundle

    record = status_tier(world, {})
    TierTypeRecord.update(definition={**record.definition, "lifecycle": {"retention": "yearly"}}).execute()
    spec = tier_to_bundle(TierTypeRecord.get_by_id(record.id))
    assert msgspec.to_builtins(spec.lifecycle) == {} and [level.key for level in spec.levels] == ["silver", "gold"]


def test_an_event_reviews_its_participant_s_due_levels_before_it_is_evaluated(world):
    from engine.store.context import load_event_context
    from engine.store.db import utcnow
    from tests.engine.world import store_event

    record = status_tier(world, YEARLY_DROP_ONE)
    last_year = utc(utcnow().year - 1, 3, 1)  # the level's period ended on January 1 of this year
    put_gold(world, record, miles=30000, at=last_year)
    put_gold(world, record, world.bob, miles=30000, at=last_year)
    with write_transaction():
        context = load_event_context(store_event(world))  # received now, after that period end
    ((move,),) = [context.tier_moves]
    assert (move.participant_id, move.old_level, move.new_level, move.reason) == (
        world.alice.id,
        "gold",
        "silver",
        "PERIOD_END",
    )
    assert move.event_id == context.record.id
    assert context.inputs.participant.tiers["status"].level == "silver"
    assert context.inputs.participant.counters["miles"].value == Decimal(5000)  # EXCESS over silver
    assert level_of(world.bob).level == "gold"  # another member waits for the job
    with write_transaction():
        assert load_event_context(store_event(world)).tier_moves == []  # reviewed once


# --- a group's levels (A257) -----------------------------------------------------------------------


def household(world):
    from engine.store import groups

    return groups.create_group(world.org.id, "Smiths", [groups.Member(world.alice.id, groups.ADMIN)])


def put_group_gold(world, record, group, *, miles: int = 0, at: datetime = SET_AT, expires_at=None):
    with write_transaction():
        origin = owner_state.Origin(program_id=world.program.id, at=at)
        move = owner_state.set_tier(
            world.org.id, group.id, record, "gold", 2, origin, reason="API", expires_at=expires_at, owner_type="GROUP"
        )
        if miles:
            owner_state.set_counter(world.org.id, "GROUP", group.id, "miles", Decimal(miles), origin)
    return move


def group_level_of(group):
    from engine.store.models import GroupTier

    return GroupTier.get_or_none(GroupTier.group == group.id)


def test_a_group_s_level_is_scheduled_and_its_period_end_dropped_after_grace_on_its_own_counters(world):
    lifecycle = {**YEARLY_DROP_ONE, "downgrade_policy": {"mode": "DROP_ONE", "grace_days": 30}}
    record = status_tier(world, lifecycle)
    group = household(world)
    move = put_group_gold(world, record, group, miles=10000)
    assert (move.owner_type, move.participant_id, move.new_level) == ("GROUP", group.id, "gold")
    put_gold(world, record, miles=60000)  # a member's own level and counters are not the group's
    assert group_level_of(group).due_at == utc(2027, 1, 1)
    assert level_of(world.alice) is not None
    seen: list = []
    assert tier_sweeps.count_due_tiers(utc(2027, 1, 1)) == 2
    assert tier_sweeps.review_due_tiers(utc(2027, 1, 1), on_moved=seen.extend) == 2
    assert seen == []  # the group's drop waits for its grace; the member keeps gold on 60,000 miles
    row = group_level_of(group)
    assert (row.level, row.pending_drop, row.downgrade_to, row.due_at) == ("gold", True, "silver", utc(2027, 1, 31))
    assert tier_sweeps.review_due_tiers(utc(2027, 1, 31), on_moved=seen.extend) == 1
    ((owner, owner_type, old, new, reason),) = [
        (m.participant_id, m.owner_type, m.old_level, m.new_level, m.reason) for m in seen
    ]
    assert (owner, owner_type, old, new, reason) == (group.id, "GROUP", "gold", "silver", "PERIOD_END")
    assert group_level_of(group).level == "silver" and level_of(world.alice).level == "gold"
    history = StateHistory.select().where((StateHistory.owner_type == "GROUP") & (StateHistory.reason == "PERIOD_END"))
    assert sorted((h.state_type, h.old_value, h.new_value) for h in history) == [
        ("counter", "10000", "0"),  # no level earned on 10,000: EXCESS leaves nothing
        ("tier", "gold", "silver"),
    ]


def test_a_group_s_expired_level_is_gone_at_read_time_and_swept_with_its_webhook_move(world):
    record = status_tier(world, {})
    group = household(world)
    put_group_gold(world, record, group, expires_at=utc(2026, 6, 1))
    assert owner_state.live_tiers(group.id, world.program.id, "GROUP") == {}
    seen: list = []
    assert tier_sweeps.review_due_tiers(utc(2026, 6, 1), on_moved=seen.extend) == 1
    assert [(m.owner_type, m.old_level, m.new_level, m.reason) for m in seen] == [("GROUP", "gold", None, "EXPIRY")]
    assert group_level_of(group) is None


def test_an_archived_group_s_levels_are_kept_and_nothing_of_them_is_due(world):
    from engine.store import groups
    from engine.store.models import GroupTierRollover

    record = status_tier(world, YEARLY_DROP_ONE)
    group = household(world)
    put_group_gold(world, record, group, miles=10000)
    with write_transaction():
        owner_state.set_counter(world.org.id, "GROUP", group.id, "miles", Decimal(5), owner_state.Origin())
    groups.archive_group(world.org.id, group.id)
    assert group_level_of(group).level == "gold" and group_level_of(group).due_at is None
    assert GroupTierRollover.select().count() == 0
    assert tier_sweeps.count_due_tiers(utc(2030, 1, 1)) == 0
    update_tier_type(world.org.id, world.program.id, "status", {"lifecycle": {}})  # a change makes levels due...
    assert tier_sweeps.count_due_tiers(utc(2030, 1, 1)) == 0  # ...but an archived group's stay as they are


def test_concurrent_sweepers_review_each_group_s_level_once(world, fresh_db):
    from engine.store import groups

    record = status_tier(world, YEARLY_DROP_ONE)
    many = [
        groups.create_group(world.org.id, f"g{i}", [groups.Member(world.alice.id, groups.ADMIN)]) for i in range(60)
    ]
    for group in many:
        put_group_gold(world, record, group)
    seen: list = []
    lock = threading.Lock()

    def collect(moves):
        with lock:
            seen.extend(moves)

    def sweep():
        with database_proxy.connection_context():
            while tier_sweeps.review_due_tiers(utc(2027, 1, 1), limit=20, on_moved=collect):
                pass

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m.participant_id for m in seen) == sorted(g.id for g in many)
    assert StateHistory.select().where(StateHistory.reason == "PERIOD_END").count() == 60


def test_an_event_reviews_its_group_s_due_levels_and_binds_its_live_levels(world):
    from engine.store.context import load_event_context
    from engine.store.db import utcnow
    from tests.engine.world import store_event

    record = status_tier(world, YEARLY_DROP_ONE)
    group = household(world)
    last_year = utc(utcnow().year - 1, 3, 1)
    put_group_gold(world, record, group, miles=30000, at=last_year)
    with write_transaction():
        context = load_event_context(store_event(world, data={"type": "purchase", "group_id": group.id}))
    ((move,),) = [context.tier_moves]
    assert (move.owner_type, move.participant_id, move.new_level, move.event_id) == (
        "GROUP",
        group.id,
        "silver",
        context.record.id,
    )
    assert context.inputs.group.tiers["status"].level == "silver"
    assert context.inputs.group.counters["miles"].value == Decimal(5000)
