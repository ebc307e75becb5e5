"""An event's ledger actions are built one entry each and written together by `Ledger.finish`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from engine.model.result import EvaluationResult, ResolvedAction, ResolvedTarget, RuleOutcome
from engine.model.state import EntityState, ProgramState
from engine.store.db import write_transaction
from engine.store.effects import post_event_effects
from engine.store.ledger.accounts import balances_of
from engine.store.ledger.hashchain import GENESIS, entry_document, entry_hash
from engine.store.ledger.journal import Ledger
from engine.store.ledger.movements import Entity, credit
from engine.store.ledger.verify import verify
from engine.store.models import JournalEntry, LedgerHead, Posting
from tests.engine.world import make_rule, store_event

AMOUNTS = ["1.25", "2", "3.50", "0.01", "10"]


def credits_result(rule, amounts, targets=("participant",)):
    """A matched rule whose actions are one CREDIT of PTS per amount (targets taken in turn)."""
    actions = [
        ResolvedAction(
            rule=rule.name,
            index=n,
            type="CREDIT",
            asset="PTS",
            amount=Decimal(amount),
            bucket="AVAILABLE",
            target=ResolvedTarget(type="PARTICIPANT", role=targets[n % len(targets)]),
            description=f"credit {n}",
        )
        for n, amount in enumerate(amounts)
    ]
    outcome = RuleOutcome(
        rule=rule.name, order=rule.order, status="MATCHED", rule_id=rule.id, rule_version=rule.version, actions=actions
    )
    return EvaluationResult(
        status="COMPLETED",
        evaluated_at=datetime(2026, 1, 1, 12, tzinfo=UTC),
        rules=[outcome],
        actions=actions,
        state_changes=[],
        budget_uses=[],
        participant=EntityState(),
        program=ProgramState(),
    )


def chain():
    return list(JournalEntry.select().order_by(JournalEntry.sequence))


def test_an_event_with_several_credits_chains_each_as_its_own_entry(world):
    rule = make_rule(world)
    event = store_event(world, world.alice, recipient=world.bob)
    outcome = post_event_effects(event.id, credits_result(rule, AMOUNTS, ("participant", "recipient")))
    assert outcome.status == "COMPLETED" and len(outcome.journal_entry_ids) == len(AMOUNTS)
    entries = chain()
    assert [entry.id for entry in entries] == outcome.journal_entry_ids  # in action order
    assert [entry.sequence for entry in entries] == [1, 2, 3, 4, 5]
    assert [entry.prev_hash for entry in entries] == [GENESIS] + [entry.entry_hash for entry in entries[:-1]]
    assert [entry.description for entry in entries] == [f"credit {n}" for n in range(len(AMOUNTS))]
    for entry in entries:  # each hash is the one its own stored rows give
        assert entry.entry_hash == entry_hash(entry_document(entry, list(entry.postings)))
    head = LedgerHead.get_by_id(world.org.id)
    assert (head.sequence, head.last_hash) == (5, entries[-1].entry_hash)
    alice = sum(Decimal(a) for a in AMOUNTS[0::2])
    bob = sum(Decimal(a) for a in AMOUNTS[1::2])
    assert balances_of("PARTICIPANT", world.alice.id)[world.pts.id].available == alice
    assert balances_of("PARTICIPANT", world.bob.id)[world.pts.id].available == bob
    assert Posting.select().count() == 2 * len(AMOUNTS)
    assert verify().ok


def test_several_credits_write_what_posting_them_one_by_one_writes(world):
    """The batched event and the same credits finished one ledger at a time give the same chain
    shape, amounts, accounts and balances, and both verify."""
    rule = make_rule(world)
    post_event_effects(store_event(world).id, credits_result(rule, AMOUNTS))
    batched = chain()
    alice = Entity("PARTICIPANT", world.alice.id)
    for amount in AMOUNTS:
        with write_transaction():
            ledger = Ledger(world.org.id)
            credit(ledger, world.pts, world.program.id, alice, Decimal(amount))
            ledger.finish()
    one_by_one = chain()[len(AMOUNTS) :]
    assert [e.sequence for e in one_by_one] == [6, 7, 8, 9, 10]
    assert one_by_one[0].prev_hash == batched[-1].entry_hash

    def shape(entries):
        return [(e.action_type, sorted((p.account_id, p.bucket, p.amount) for p in e.postings)) for e in entries]

    assert shape(batched) == shape(one_by_one)
    assert balances_of("PARTICIPANT", world.alice.id)[world.pts.id].available == 2 * sum(Decimal(a) for a in AMOUNTS)
    assert verify().ok


def count_statements(db, action):
    sent = []
    original = db.execute_sql
    db.execute_sql = lambda sql, params=None, *args, **kwargs: (
        sent.append(sql) or original(sql, params, *args, **kwargs)
    )
    try:
        action()
    finally:
        del db.execute_sql
    return sent


def test_a_five_credit_event_runs_the_statements_of_a_one_credit_event(world, db):
    rule = make_rule(world)
    post_event_effects(store_event(world).id, credits_result(rule, ["1"]))  # warm caches; accounts exist
    single = store_event(world)
    one = count_statements(db, lambda: post_event_effects(single.id, credits_result(rule, ["1"])))
    event = store_event(world)
    five = count_statements(db, lambda: post_event_effects(event.id, credits_result(rule, AMOUNTS)))
    assert len(five) == len(one)
    assert sum(sql.startswith('INSERT INTO "journal_entry"') for sql in five) == 1
    assert sum(sql.startswith('INSERT INTO "posting"') for sql in five) == 1
    assert sum(sql.startswith('UPDATE "account"') for sql in five) == 1
    assert sum(sql.startswith('UPDATE "ledger_head"') for sql in five) == 1
    assert JournalEntry.select().where(JournalEntry.event_id == event.id).count() == 5
    assert verify().ok
