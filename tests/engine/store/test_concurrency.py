"""Many writers on the same participant at once, on real threads with their own connections."""

from __future__ import annotations

import threading
from decimal import Decimal

from engine.store import operations as ops
from engine.store.effects import post_event_effects
from engine.store.ledger.accounts import balances_of
from engine.store.ledger.verify import verify
from engine.store.models import JournalEntry, StateCounter
from tests.engine.world import make_rule, store_event, typical_result

THREADS, EVENTS_PER_THREAD = 6, 12


def test_concurrent_writers_on_one_participant_never_lose_an_update(world, db):
    rule = make_rule(world)
    events = [[store_event(world).id for _ in range(EVENTS_PER_THREAD)] for _ in range(THREADS)]
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS * 2)

    def post_events(event_ids):  # each thread takes its own connection from the pool
        try:
            with db.connection_context():
                start.wait()
                for event_id in event_ids:
                    assert post_event_effects(event_id, typical_result(rule, amount="1.25")).status == "COMPLETED"
        except BaseException as exc:
            errors.append(exc)

    def adjust():
        try:
            with db.connection_context():
                start.wait()
                for _ in range(EVENTS_PER_THREAD):
                    ops.adjust_balance(
                        world.org.id,
                        world.alice.id,
                        program_id=world.program.id,
                        asset_id="PTS",
                        type="CREDIT",
                        amount="0.75",
                        description="concurrent",
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=post_events, args=(ids,)) for ids in events]
    threads += [threading.Thread(target=adjust) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    writes = THREADS * EVENTS_PER_THREAD
    assert balances_of("PARTICIPANT", world.alice.id)[world.pts.id].available == writes * Decimal("2.00")
    assert StateCounter.get(StateCounter.key == "purchases").value == writes
    assert JournalEntry.select().count() == writes * 2
    report = verify()
    assert report.ok, report.mismatches


def test_events_sharing_a_budget_never_overspend_it_nor_fail(world, db):
    """Evaluated and posted in one transaction each (as the worker does), concurrent events of
    different participants on one rule budget: exactly the credits that fit, no budget_conflict."""
    from engine.evaluator.evaluate import evaluate_event
    from engine.model.bundle import Budget, Credit, Rule
    from engine.store.catalog import create_rule
    from engine.store.context import load_event_context
    from engine.store.db import write_transaction
    from engine.store.models import Participant, RuleBudget

    rule = create_rule(
        world.org.id,
        world.program.id,
        Rule(
            name="capped",
            condition="true",
            actions=[Credit(asset_id="PTS", amount="10")],
            budgets=[Budget(asset_id="PTS", limit="30")],
        ),
    )
    people = [Participant.create(organisation=world.org, external_id=f"c{n}") for n in range(8)]
    events = [store_event(world, person).id for person in people]
    outcomes, errors = [], []
    start = threading.Barrier(len(events))

    def process(event_id):
        try:
            with db.connection_context():
                start.wait()
                with write_transaction():
                    context = load_event_context(event_id)
                    result = evaluate_event(context.program, context.inputs)
                    outcomes.append(post_event_effects(event_id, result))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=process, args=(event_id,)) for event_id in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(o.status for o in outcomes) == ["COMPLETED"] * len(events)
    assert sum(len(o.journal_entry_ids) for o in outcomes) == 3
    assert RuleBudget.get(RuleBudget.rule == rule.id).consumed == Decimal(30)
    assert verify().ok


def test_members_of_one_group_posting_at_once_never_lose_a_group_credit(world, db):
    """Every member's event credits the member and the shared group wallet (and counts on the
    group) while the group is adjusted through the API: each event evaluated and posted in one
    transaction, as the worker does, on real threads. The group's row is its lock (taken with the
    other owners in (type, id) order after the ledger head), so no credit is lost or deadlocks."""
    from engine.evaluator.evaluate import evaluate_event
    from engine.model.bundle import Counter, Credit, Rule, Target
    from engine.store import groups
    from engine.store.catalog import create_rule
    from engine.store.context import load_event_context
    from engine.store.db import write_transaction
    from engine.store.models import Participant

    members = [Participant.create(organisation=world.org, external_id=f"m{n}") for n in range(THREADS)]
    roles = [groups.Member(person.id, "ADMIN" if n == 0 else "MEMBER") for n, person in enumerate(members)]
    household = groups.create_group(world.org.id, "Smiths", roles)
    to_group = Target(type="GROUP", id="event.group_id")
    create_rule(
        world.org.id,
        world.program.id,
        Rule(
            name="pool",
            condition="true",
            actions=[
                Credit(asset_id="PTS", amount="1.5"),
                Credit(asset_id="PTS", amount="2.25", target=to_group),
                Counter(key="purchases", value="1", target=to_group),
            ],
        ),
    )
    data = {"type": "purchase", "group_id": household.id}
    events = [[store_event(world, person, data=data).id for _ in range(EVENTS_PER_THREAD)] for person in members]
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS + 1)

    def process(event_ids):
        try:
            with db.connection_context():
                start.wait()
                for event_id in event_ids:
                    with write_transaction():
                        context = load_event_context(event_id)
                        result = evaluate_event(context.program, context.inputs)
                        assert post_event_effects(event_id, result).status == "COMPLETED"
        except BaseException as exc:
            errors.append(exc)

    def adjust_group():
        try:
            with db.connection_context():
                start.wait()
                for _ in range(EVENTS_PER_THREAD):
                    ops.adjust_balance(
                        world.org.id, household.id, owner_type="GROUP", program_id=world.program.id, asset_id="PTS",
                        type="CREDIT", amount="0.5", description="top-up",
                    )  # fmt: skip
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=process, args=(ids,)) for ids in events]
    threads.append(threading.Thread(target=adjust_group))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    posted = THREADS * EVENTS_PER_THREAD
    pot = balances_of("GROUP", household.id, None, world.program.id)[world.pts.id].available
    assert pot == posted * Decimal("2.25") + EVENTS_PER_THREAD * Decimal("0.5")
    for person in members:
        assert balances_of("PARTICIPANT", person.id)[world.pts.id].available == EVENTS_PER_THREAD * Decimal("1.5")
    counter = StateCounter.get((StateCounter.owner_type == "GROUP") & (StateCounter.owner_id == household.id))
    assert counter.value == posted
    report = verify()
    assert report.ok, report.mismatches
