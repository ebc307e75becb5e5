from __future__ import annotations

from decimal import Decimal

import msgspec

from engine.model.bundle import Budget, TierLevel, TierType
from engine.model.result import ResolvedAction, ResolvedTarget, StateChange
from engine.store import operations as ops
from engine.store.effects import post_event_effects
from engine.store.ledger.accounts import balances_of
from engine.store.ledger.verify import verify
from engine.store.models import (
    EventRecord,
    JournalEntry,
    Participant,
    ParticipantTier,
    RuleBudget,
    RuleEvaluation,
    StateCounter,
    StateHistory,
    StateTag,
)
from engine.store.tier_types import create_tier_type
from tests.engine.world import make_rule, store_event, typical_result


def available(world, person):
    return balances_of("PARTICIPANT", person.id).get(world.pts.id).available


def test_a_completed_result_writes_everything_once(world):
    rule = make_rule(world)
    event = store_event(world)
    outcome = post_event_effects(event.id, typical_result(rule, amount="10.50"))
    assert outcome.written and outcome.status == "COMPLETED" and len(outcome.journal_entry_ids) == 1
    assert available(world, world.alice) == Decimal("10.50")
    assert StateCounter.get(StateCounter.key == "purchases").value == Decimal(1)
    assert [t.tag for t in StateTag.select()] == ["buyer"]
    entry = JournalEntry.get_by_id(outcome.journal_entry_ids[0])
    assert (entry.event_id, entry.rule_id, entry.rule_version) == (event.id, rule.id, 1)
    evaluation = RuleEvaluation.get(RuleEvaluation.event == event.id)
    assert (evaluation.status, evaluation.rule_id, evaluation.rule_version) == ("SUCCESS", rule.id, 1)
    assert evaluation.rule_history_id is not None
    history = sorted((h.state_type, h.operation, h.new_value, h.event_id == event.id) for h in StateHistory.select())
    assert history == [("counter", "set", "1", True), ("tag", "add", "buyer", True)]
    assert EventRecord.get_by_id(event.id).status == "COMPLETED"
    again = post_event_effects(event.id, typical_result(rule, amount="10.50"))
    assert not again.written and again.status == "COMPLETED"
    assert available(world, world.alice) == Decimal("10.50")
    assert verify().ok


def test_a_failed_result_writes_only_the_failure(world):
    rule = make_rule(world)
    event = store_event(world)
    outcome = post_event_effects(event.id, typical_result(rule, status="FAILED"))
    assert outcome.status == "FAILED" and outcome.error_code == "insufficient_funds"
    stored = EventRecord.get_by_id(event.id)
    assert (stored.status, stored.error_code, stored.error_message) == ("FAILED", "insufficient_funds", "not enough")
    assert JournalEntry.select().count() == 0 and StateTag.select().count() == 0
    assert RuleEvaluation.select().count() == 1


def test_an_action_refused_at_write_time_rolls_everything_back(world):
    rule = make_rule(world)
    Participant.update(status="SUSPENDED").where(Participant.id == world.alice.id).execute()
    event = store_event(world)
    outcome = post_event_effects(event.id, typical_result(rule))
    assert outcome.status == "FAILED" and outcome.error_code == "participant_inactive"
    assert JournalEntry.select().count() == 0
    assert StateTag.select().count() == 0 and StateCounter.select().count() == 0
    assert StateHistory.select().count() == 0
    assert RuleEvaluation.select().count() == 1
    assert verify().ok


def test_participant_ids_resolved_before_the_write_go_with_the_outcome_refused_or_not(world):
    """Given the event's row as resolved in memory, the outcome writes its participant ids, also
    when an action is refused at write time and the event ends FAILED."""
    rule = make_rule(world)
    for person, status in ((world.alice, "COMPLETED"), (world.bob, "FAILED")):
        if status == "FAILED":
            Participant.update(status="SUSPENDED").where(Participant.id == person.id).execute()
        event = store_event(world, person)
        EventRecord.update(participant=None).where(EventRecord.id == event.id).execute()  # named by external id
        resolved = EventRecord.get_by_id(event.id)
        resolved.participant_id = person.id  # as `load_event_context(..., persist_participants=False)` leaves it
        outcome = post_event_effects(resolved, typical_result(rule, participant_role="participant"))
        stored = EventRecord.get_by_id(event.id)
        assert (outcome.status, stored.status, stored.participant_id) == (status, status, person.id)


def test_void_hold_for_a_suspended_participant_applies_as_the_evaluator_says(world):
    """Regression: storage refused VOID_HOLD for an inactive participant while the evaluator (and
    so `accrual test` and the playground) let it run; D22 does not block it."""
    rule = make_rule(world)
    target = ResolvedTarget(type="PARTICIPANT", role="participant")
    provisional = ResolvedAction(
        rule=rule.name,
        index=0,
        type="CREDIT",
        target=target,
        asset="PTS",
        amount=Decimal(4),
        bucket="HELD",
        reference_id="order-1",
    )
    held = post_event_effects(
        store_event(world).id, msgspec.structs.replace(typical_result(rule), actions=[provisional])
    )
    assert held.status == "COMPLETED"
    Participant.update(status="SUSPENDED").where(Participant.id == world.alice.id).execute()
    void = ResolvedAction(
        rule=rule.name, index=0, type="VOID_HOLD", target=target, asset="PTS", amount=Decimal(4), reference_id="order-1"
    )
    outcome = post_event_effects(store_event(world).id, msgspec.structs.replace(typical_result(rule), actions=[void]))
    assert (outcome.status, outcome.error_code) == ("COMPLETED", None)
    assert balances_of("PARTICIPANT", world.alice.id)[world.pts.id].held == 0
    assert verify().ok


def test_debit_beyond_the_balance_fails_the_event(world):
    rule = make_rule(world)
    event = store_event(world)
    target = ResolvedTarget(type="PARTICIPANT", role="participant")
    result = typical_result(rule)
    debit = ResolvedAction(rule=rule.name, index=3, type="DEBIT", target=target, asset="PTS", amount=Decimal("11"))
    result = msgspec.structs.replace(result, actions=[*result.actions, debit])
    outcome = post_event_effects(event.id, result)
    assert outcome.error_code == "insufficient_funds"
    assert JournalEntry.select().count() == 0 and verify().ok


def test_budget_consumption_is_rechecked_under_the_lock(world):
    rule = make_rule(world, budgets=[Budget(asset_id="PTS", limit="15")])
    first = post_event_effects(store_event(world).id, typical_result(rule, budget=True))
    assert first.status == "COMPLETED"
    assert RuleBudget.get(RuleBudget.rule == rule.id).consumed == Decimal("10")
    second = post_event_effects(store_event(world).id, typical_result(rule, budget=True))
    assert second.error_code == "budget_conflict"
    assert RuleBudget.get(RuleBudget.rule == rule.id).consumed == Decimal("10")


def test_program_targets_other_participants_and_tiers(world):
    rule = make_rule(world)
    create_tier_type(
        world.org.id,
        world.program.id,
        TierType(key="status", levels=[TierLevel(key="silver", rank=1), TierLevel(key="gold", rank=2)]),
    )
    ops.fund_program(world.org.id, world.program.id, asset_id="GEM", amount="5")
    event = store_event(world)
    program, bob = ResolvedTarget(type="PROGRAM"), ResolvedTarget(type="PARTICIPANT", external_id="bob")
    alice = ResolvedTarget(type="PARTICIPANT", role="participant")
    actions = [
        ResolvedAction(rule=rule.name, index=0, type="COUNTER", target=program, key="sales", value="2.5"),
        ResolvedAction(rule=rule.name, index=1, type="CREDIT", target=bob, asset="GEM", amount=Decimal(2)),
        ResolvedAction(rule=rule.name, index=2, type="SET_ATTRIBUTE", target=bob, key="referred", value="yes"),
        ResolvedAction(rule=rule.name, index=3, type="SET_TIER", target=alice, tier="status", level="gold"),
    ]
    result = msgspec.structs.replace(
        typical_result(rule),
        actions=actions,
        state_changes=[
            StateChange(
                target=alice, state_type="tier", key="status", operation="set", new_value="gold", rule=rule.name
            )
        ],
    )
    assert post_event_effects(event.id, result).status == "COMPLETED"
    assert StateCounter.get(StateCounter.owner_type == "PROGRAM").value == Decimal("2.5")
    assert balances_of("PARTICIPANT", world.bob.id)[world.gem.id].available == Decimal(2)
    assert balances_of("PROGRAM", world.program.id)[world.gem.id].available == Decimal(3)
    tier = ParticipantTier.get(ParticipantTier.participant == world.alice.id)
    assert (tier.level, tier.rank) == ("gold", 2)
    assert verify().ok


def test_unknown_target_participant_fails_the_event(world):
    rule = make_rule(world)
    event = store_event(world)
    ghost = ResolvedTarget(type="PARTICIPANT", external_id="ghost")
    action = ResolvedAction(rule=rule.name, index=0, type="TAG", target=ghost, tag="x")
    outcome = post_event_effects(event.id, msgspec.structs.replace(typical_result(rule), actions=[action]))
    assert outcome.error_code == "unknown_participant"


def test_malformed_resolved_actions_fail_the_event_with_a_code(world):
    rule = make_rule(world)
    target = ResolvedTarget(type="PARTICIPANT", role="participant")
    broken = [
        ResolvedAction(rule=rule.name, index=0, type="COUNTER", target=target, key="n", value="many"),
        ResolvedAction(rule=rule.name, index=0, type="TAG", target=target, tag=""),
        ResolvedAction(rule=rule.name, index=0, type="CREDIT", target=target, asset="NOPE", amount=Decimal(1)),
        ResolvedAction(rule=rule.name, index=0, type="CREDIT", target=target, asset="PTS", amount=Decimal("0.001")),
    ]
    codes = []
    for action in broken:
        event = store_event(world)
        codes.append(
            post_event_effects(event.id, msgspec.structs.replace(typical_result(rule), actions=[action])).error_code
        )
    assert codes == ["invalid_action", "invalid_action", "asset_not_linked", "invalid_scale"]
    assert JournalEntry.select().count() == 0 and StateCounter.select().count() == 0


def test_amounts_are_stored_at_the_asset_scale_however_the_result_writes_them(world):
    rule = make_rule(world)
    outcome = post_event_effects(store_event(world).id, typical_result(rule, amount="7"))
    postings = JournalEntry.get_by_id(outcome.journal_entry_ids[0]).postings
    assert sorted(str(p.amount) for p in postings) == ["-7.00", "7.00"]
    assert verify().ok


def test_events_after_the_first_chain_on_the_head_read_with_the_event(world):
    rule = make_rule(world)
    outcomes = [
        post_event_effects(store_event(world, person).id, typical_result(rule))
        for person in (world.alice, world.bob, world.alice)
    ]
    entries = [JournalEntry.get_by_id(outcome.journal_entry_ids[0]) for outcome in outcomes]
    assert [entry.sequence for entry in entries] == [1, 2, 3]
    assert [entry.prev_hash for entry in entries[1:]] == [entry.entry_hash for entry in entries[:-1]]
    assert verify().ok


def test_an_event_starts_the_wait_of_activity_refresh_levels_again_and_reports_set_tier_moves(world):
    from datetime import timedelta

    from engine.model.lifecycle import Lifecycle, Retention
    from engine.store import owner_state
    from engine.store.db import utcnow, write_transaction
    from engine.store.models import EventRecord

    rule = make_rule(world)
    levels = [TierLevel(key="silver", rank=1), TierLevel(key="gold", rank=2)]
    refreshing = Lifecycle(retention=Retention(mode="ACTIVITY_REFRESH", duration="720h"))
    record = create_tier_type(
        world.org.id, world.program.id, TierType(key="status", levels=levels, lifecycle=refreshing)
    )
    other = create_tier_type(world.org.id, world.program.id, TierType(key="club", levels=levels))
    set_at = utcnow() - timedelta(days=10)
    with write_transaction():
        origin = owner_state.Origin(program_id=world.program.id, at=set_at)
        owner_state.set_tier(world.org.id, world.alice.id, record, "gold", 2, origin, reason="API")
    assert ParticipantTier.get(ParticipantTier.tier_type == record.id).review_at == set_at + timedelta(days=30)
    event = store_event(world)
    received = EventRecord.get_by_id(event.id).created_at
    alice = ResolvedTarget(type="PARTICIPANT", role="participant")
    result = msgspec.structs.replace(
        typical_result(rule),
        state_changes=[
            StateChange(
                target=alice, state_type="tier", key="club", operation="set", new_value="silver", rule=rule.name
            )
        ],
    )
    assert post_event_effects(store_event(world, key="quiet").id, typical_result(rule)).status == "COMPLETED"
    assert ParticipantTier.get(ParticipantTier.tier_type == record.id).review_at == set_at + timedelta(days=30)
    outcome = post_event_effects(event.id, result, refresh_tiers=True)
    assert ParticipantTier.get(ParticipantTier.tier_type == record.id).review_at == received + timedelta(days=30)
    assert ParticipantTier.get(ParticipantTier.tier_type == other.id).due_at is None  # a rules-only tier
    (move,) = outcome.tier_moves
    assert (move.tier, move.old_level, move.new_level, move.reason, move.event_id) == (
        "club",
        None,
        "silver",
        "RULE",
        event.id,
    )


def test_a_set_tier_expiry_is_stored_and_due(world):
    from datetime import UTC, datetime

    rule = make_rule(world)
    record = create_tier_type(
        world.org.id, world.program.id, TierType(key="promo", levels=[TierLevel(key="vip", rank=1)])
    )
    event = store_event(world)
    alice = ResolvedTarget(type="PARTICIPANT", role="participant")
    lapse = datetime(2031, 1, 1, tzinfo=UTC)
    change = StateChange(
        target=alice, state_type="tier", key="promo", operation="set", new_value="vip", rule=rule.name, expires_at=lapse
    )
    result = msgspec.structs.replace(typical_result(rule), state_changes=[change])
    assert post_event_effects(event.id, result).status == "COMPLETED"
    row = ParticipantTier.get(ParticipantTier.tier_type == record.id)
    assert (row.level, row.expires_at, row.due_at) == ("vip", lapse, lapse)
