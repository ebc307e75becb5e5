from __future__ import annotations

from decimal import Decimal

import pytest

from engine.evaluator.evaluate import evaluate_event
from engine.model.bundle import Budget, Counter, Credit, Debit, Rule, Tag, Target
from engine.model.state import Balance
from engine.store import groups, owner_state
from engine.store import operations as ops
from engine.store.catalog import create_rule, update_rule
from engine.store.context import compiled_programs, load_event_context
from engine.store.effects import post_event_effects
from engine.store.errors import Conflict, NotFound
from engine.store.ledger.verify import verify
from engine.store.models import Asset, Enrolment, EventRecord, Participant, Program, ProgramAsset
from tests.engine.world import store_event


def purchase_rule(**extra):
    return Rule(
        name="purchase",
        condition='event.type == "purchase"',
        actions=[
            Credit(asset_id="PTS", amount="event.amount * 2.0"),
            Counter(key="purchases", value=1),
            Tag(tag="buyer"),
        ],
        **extra,
    )


def run(event_id):
    context = load_event_context(event_id)
    result = evaluate_event(context.program, context.inputs)
    return post_event_effects(event_id, result)


def test_stored_rules_evaluate_and_post_end_to_end(world):
    create_rule(world.org.id, world.program.id, purchase_rule(budgets=[Budget(asset_id="PTS", limit="30")]))
    for amount in (5.25, 7.0):
        outcome = run(store_event(world, data={"type": "purchase", "amount": amount}).id)
        assert outcome.status == "COMPLETED"
    context = load_event_context(store_event(world, data={"type": "purchase", "amount": 1.0}).id)
    assert context.inputs.participant.balances["PTS"].available == Decimal("24.50")
    assert context.inputs.participant.counters["purchases"].value == Decimal(2)
    assert context.inputs.participant.tags == ["buyer"]
    assert context.inputs.budgets[("purchase", "PTS")].consumed == Decimal("24.50")
    over = run(store_event(world, data={"type": "purchase", "amount": 10.0}).id)  # 20 does not fit in 5.50
    assert over.status == "COMPLETED" and over.journal_entry_ids == []
    assert verify().ok


def test_compiled_programs_are_cached_by_rules_version(world):
    rule = create_rule(world.org.id, world.program.id, purchase_rule())
    event = store_event(world, data={"type": "purchase", "amount": 1.0})
    first = load_event_context(event.id).program
    assert load_event_context(event.id).program is first
    update_rule(world.org.id, rule.id, {"condition": "false"})
    assert load_event_context(event.id).program is not first
    assert compiled_programs.get(Program.get_by_id(world.program.id)) is load_event_context(event.id).program


def test_unknown_participants_follow_the_program_policy(world):
    event = store_event(world, external_id="carol", participant=None)
    EventRecord.update(participant=None).where(EventRecord.id == event.id).execute()
    context = load_event_context(event.id)
    carol = Participant.get(Participant.external_id == "carol")
    assert context.inputs.participant.id == carol.id and context.inputs.participant.external_id == "carol"
    Program.update(on_unknown_participant="REJECT").where(Program.id == world.program.id).execute()
    rejected = store_event(world, external_id="dave")
    EventRecord.update(participant=None).where(EventRecord.id == rejected.id).execute()
    with pytest.raises(NotFound) as info:
        load_event_context(rejected.id)
    assert info.value.code == "unknown_participant"


def enrolment_status(person, program) -> str | None:
    found = Enrolment.get_or_none((Enrolment.participant == person.id) & (Enrolment.program == program.id))
    return found.status if found else None


def test_participants_named_by_id_are_enrolled_and_inactive_enrolments_reactivated(world):
    """Reference 2.6: every identity path enrols (a regression: only external ids did)."""
    Enrolment.create(participant=world.bob, program=world.program, status="CLOSED")
    assert (enrolment_status(world.alice, world.program), enrolment_status(world.bob, world.program)) == (
        None,
        "CLOSED",
    )
    event = store_event(world, external_id=None, recipient=world.bob)
    assert (event.participant_id, event.recipient_id) == (world.alice.id, world.bob.id)
    load_event_context(event.id)
    assert enrolment_status(world.alice, world.program) == "ACTIVE"
    assert enrolment_status(world.bob, world.program) == "ACTIVE"
    assert Enrolment.select().where(Enrolment.program == world.program.id).count() == 2


def test_a_participant_by_id_beside_a_recipient_by_external_id_is_enrolled_too(world):
    event = store_event(world, external_id=None, recipient_external_id="carol")
    context = load_event_context(event.id)
    carol = Participant.get(Participant.external_id == "carol")
    assert context.inputs.recipient.id == carol.id
    assert enrolment_status(world.alice, world.program) == "ACTIVE"
    assert enrolment_status(carol, world.program) == "ACTIVE"


def test_inactive_program_and_missing_event(world):
    event = store_event(world)
    Program.update(status="SUSPENDED").where(Program.id == world.program.id).execute()
    with pytest.raises(Conflict) as info:
        load_event_context(event.id)
    assert info.value.code == "program_inactive"
    with pytest.raises(NotFound):
        load_event_context("no-such-event")


def test_wallet_and_holds_by_reference_are_loaded(world):
    ops.fund_program(world.org.id, world.program.id, asset_id="GEM", amount="7")
    ops.adjust_balance(
        world.org.id,
        world.alice.id,
        program_id=world.program.id,
        asset_id="PTS",
        type="CREDIT",
        amount="10",
        description="seed",
    )
    ops.hold(
        world.org.id,
        world.alice.id,
        program_id=world.program.id,
        asset_id="PTS",
        amount="4",
        description="auth",
        reference_id="order-1",
    )
    context = load_event_context(store_event(world).id)
    assert context.inputs.program_state.wallet["GEM"].available == Decimal(7)
    assert context.inputs.participant.holds == {"PTS": {"order-1": Decimal("4.00")}}


def test_the_group_an_event_names_is_loaded_with_its_state(world):
    household = groups.create_group(world.org.id, "Smiths", [groups.Member(world.alice.id, "ADMIN")])
    origin = owner_state.Origin(api_key_id=None)
    owner_state.set_attribute(world.org.id, "GROUP", household.id, "plan", "family", origin)
    owner_state.add_tag(world.org.id, "GROUP", household.id, "pool", origin)
    named = load_event_context(store_event(world, data={"group_id": household.id}).id).inputs.group
    assert named is not None and (named.id, named.name, named.status) == (household.id, "Smiths", "ACTIVE")
    assert (named.attributes, named.tags) == ({"plan": "family"}, ["pool"])
    for data in ({"type": "purchase"}, {"group_id": world.bob.id}, {"group_id": 7}, {"group_id": "x" * 5000}):
        assert load_event_context(store_event(world, data=data).id).inputs.group is None


def _group_op(world, household, operation, **request):
    fields = {"program_id": world.program.id, "asset_id": "PTS", "description": "family", **request}
    return getattr(ops, operation)(world.org.id, household.id, owner_type="GROUP", **fields)


def test_the_named_group_is_loaded_with_its_balances_holds_and_lots_in_the_program(world):
    household = groups.create_group(world.org.id, "Smiths", [groups.Member(world.alice.id, "ADMIN")])
    miles = Asset.create(organisation=world.org, symbol="MILES", name="Miles", scale=0, inventory_mode="LOT")
    ProgramAsset.create(program=world.program, asset=miles)
    _group_op(world, household, "adjust_balance", type="CREDIT", amount="50")
    _group_op(world, household, "hold", amount="20", reference_id="trip")
    _group_op(world, household, "adjust_balance", asset_id="MILES", type="CREDIT", amount="30")
    ops.adjust_balance(
        world.org.id,
        world.alice.id,
        program_id=world.program.id,
        asset_id="PTS",
        type="CREDIT",
        amount="7",
        description="own",
    )
    named = load_event_context(store_event(world, data={"group_id": household.id}).id).inputs.group
    assert named.balances == {
        "PTS": Balance(available=Decimal(30), held=Decimal(20)),
        "MILES": Balance(available=Decimal(30)),
    }  # the member's own 7 PTS are not the group's
    assert named.holds == {"PTS": {"trip": Decimal(20)}}
    assert [(lot.remaining, lot.status) for lot in named.lots["MILES"]] == [(Decimal(30), "AVAILABLE")]


def test_a_rule_reads_the_groups_ledger_balance_and_is_refused_what_it_does_not_hold(world):
    household = groups.create_group(world.org.id, "Smiths", [groups.Member(world.alice.id, "ADMIN")])
    _group_op(world, household, "adjust_balance", type="CREDIT", amount="40")
    target = Target(type="GROUP", id="group.id")
    create_rule(
        world.org.id,
        world.program.id,
        Rule(
            name="redeem",
            condition='event.type == "redeem" && group.balances.PTS.available >= 25.0',
            actions=[Debit(asset_id="PTS", amount="25", target=target)],
        ),
    )
    first = run(store_event(world, data={"type": "redeem", "group_id": household.id}).id)
    assert first.status == "COMPLETED" and len(first.journal_entry_ids) == 1
    context = load_event_context(store_event(world, data={"type": "redeem", "group_id": household.id}).id)
    assert context.inputs.group.balances["PTS"].available == Decimal(15)
    second = evaluate_event(context.program, context.inputs)
    assert second.status == "COMPLETED" and second.actions == []  # 15 left: the condition no longer holds
    assert verify().ok
