from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec

from engine.store.context import load_event_context
from engine.store.db import utcnow, write_transaction
from engine.store.effects import post_event_effects
from engine.store.ledger import movements
from engine.store.ledger.accounts import balances_of
from engine.store.ledger.journal import Ledger
from engine.store.ledger.lots import balances_as_of
from engine.store.ledger.maturity import mature_due
from engine.store.ledger.movements import Entity
from engine.store.ledger.verify import verify
from engine.store.models import Asset, DeferredCredit, JournalEntry
from tests.engine.world import make_rule, store_event, typical_result

EVENT_TIME = datetime(2026, 1, 1, 12, tzinfo=UTC)


def deferred_credit(world, matures_at: datetime, amount="5", rule_name="earn"):
    """A credit as the evaluator resolves one that matures after the event: DEFERRED, with its date."""
    rule = make_rule(world, rule_name)
    result = typical_result(rule, amount=amount)
    credit = msgspec.structs.replace(result.actions[0], matures_at=matures_at, bucket="DEFERRED")
    return post_event_effects(store_event(world).id, msgspec.structs.replace(result, actions=[credit]))


def test_deferred_credits_mature_once_into_available(world):
    assert deferred_credit(world, datetime(2026, 1, 31, tzinfo=UTC)).status == "COMPLETED"
    assert deferred_credit(world, EVENT_TIME + timedelta(hours=720), amount="2").status == "COMPLETED"
    balance = balances_of("PARTICIPANT", world.alice.id)[world.pts.id]
    assert (balance.available, balance.deferred) == (Decimal(0), Decimal("7.00"))
    assert mature_due(EVENT_TIME + timedelta(days=29)) == 0
    assert mature_due(EVENT_TIME + timedelta(days=29, hours=18)) == 1  # the 720h one is due at 2026-01-31T12:00
    balance = balances_of("PARTICIPANT", world.alice.id)[world.pts.id]
    assert (balance.available, balance.deferred) == (Decimal("5.00"), Decimal("2.00"))
    assert mature_due(EVENT_TIME + timedelta(days=31)) == 1
    assert mature_due(EVENT_TIME + timedelta(days=400)) == 0
    balance = balances_of("PARTICIPANT", world.alice.id)[world.pts.id]
    assert (balance.available, balance.deferred) == (Decimal("7.00"), Decimal("0.00"))
    assert JournalEntry.select().where(JournalEntry.action_type == "MATURITY").count() == 2
    assert verify().ok


def test_a_deferred_credit_without_a_maturity_is_refused(world):
    outcome = deferred_credit(world, None)
    assert (outcome.status, outcome.error_code) == ("FAILED", "invalid_action")
    assert DeferredCredit.select().count() == 0


def test_a_credit_that_cannot_mature_stays_due(world):
    deferred_credit(world, EVENT_TIME + timedelta(hours=1))
    Asset.update(status="ARCHIVED").where(Asset.id == world.pts.id).execute()
    assert mature_due(EVENT_TIME + timedelta(days=1)) == 0
    Asset.update(status="ACTIVE").where(Asset.id == world.pts.id).execute()
    assert mature_due(EVENT_TIME + timedelta(days=1)) == 1


def test_a_due_credit_counts_as_available_before_the_sweep_and_matures_before_a_debit(world):
    due_at = datetime(2026, 1, 2, tzinfo=UTC)  # long past: the clock of these tests is today's
    deferred_credit(world, due_at, amount="5")
    deferred_credit(world, datetime(2999, 1, 1, tzinfo=UTC), amount="2", rule_name="later")  # not due
    stored = balances_of("PARTICIPANT", world.alice.id)
    viewed = balances_as_of("PARTICIPANT", world.alice.id, stored, utcnow())[world.pts.id]
    assert (viewed.available, viewed.deferred) == (Decimal("5.00"), Decimal("2.00"))
    context = load_event_context(store_event(world, key="spend"))
    assert context.inputs.participant.balances["PTS"].available == Decimal("5.00")
    with write_transaction():
        ledger = Ledger(world.org.id)
        alice = Entity("PARTICIPANT", world.alice.id)
        movements.debit(ledger, world.pts, world.program.id, alice, Decimal(4))
        ledger.finish()
    assert [(s.kind, s.amount) for s in ledger.settlements] == [("MATURED", Decimal("5.00"))]
    balance = balances_of("PARTICIPANT", world.alice.id)[world.pts.id]
    assert (balance.available, balance.deferred) == (Decimal("1.00"), Decimal("2.00"))
    assert mature_due(utcnow()) == 0  # matured once, by the debit
    assert verify().ok
