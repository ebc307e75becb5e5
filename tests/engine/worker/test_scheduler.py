"""The scheduler: jobs run until nothing is due, a failing pass is never fatal, and the ledger's
jobs expire lots once with their balance.expired webhooks."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest

from engine.settings import WorkerSettings
from engine.store.db import utcnow, write_transaction
from engine.store.ledger import movements
from engine.store.ledger.journal import Ledger
from engine.store.ledger.movements import Entity
from engine.store.models import Asset, LotRecord, ProgramAsset, WebhookDelivery, WebhookEndpoint, WebhookMessage
from engine.worker import scheduler

NOW = utcnow()


@pytest.fixture
def jobs(monkeypatch):
    """An empty job registry for the test."""
    registry = scheduler.Registry()
    monkeypatch.setattr(scheduler, "JOBS", registry)
    return registry


def countdown(items: int, log: list[int]):
    """A job with `items` due that applies at most `limit` per call."""
    left = [items]

    def run(now, limit):
        applied = min(limit, left[0])
        left[0] -= applied
        log.append(applied)
        return applied

    return run, lambda now: left[0]


def test_a_job_runs_again_while_it_applies_its_limit(jobs):
    calls: list[int] = []
    run, count = countdown(7, calls)
    scheduler.register_job("count", run, count)
    assert scheduler.due_counts(NOW) == {"count": 7}
    seen = []
    assert scheduler.run_due(NOW, limit=3, progress=lambda job, n: seen.append((job, n))) == {"count": 7}
    assert calls == [3, 3, 1] and seen == [("count", 3), ("count", 3), ("count", 1)]
    assert scheduler.run_due(NOW, limit=3) == {"count": 0}


def test_jobs_run_in_registration_order_and_a_name_replaces_its_job(jobs):
    order = []
    scheduler.register_job("a", lambda now, limit: order.append("a") or 0)
    scheduler.register_job("b", lambda now, limit: order.append("b") or 0)
    scheduler.register_job("a", lambda now, limit: order.append("a2") or 0)
    scheduler.run_due(NOW)
    assert order == ["b", "a2"]


def test_a_failing_pass_is_logged_and_the_thread_stops_when_asked(jobs, db, caplog):
    def broken(now, limit):
        raise RuntimeError("boom")

    scheduler.register_job("broken", broken)
    thread = scheduler.Scheduler(db, interval_s=0.01, clock=lambda: NOW)
    with caplog.at_level(logging.ERROR, logger="accrual.scheduler"):
        assert thread.run_once() == {}
    assert "scheduler pass failed" in caplog.text
    thread.start()
    thread.stopped.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_the_ledger_jobs_expire_lots_once_and_send_balance_expired(jobs, queue, world):
    miles = Asset.create(organisation=world.org, symbol="MILES", name="Miles", scale=0, inventory_mode="LOT")
    ProgramAsset.create(program=world.program, asset=miles)
    WebhookEndpoint.create(
        organisation=world.org, url="http://127.0.0.1:1/h", secret="whsec_x", enabled_events=["balance.expired"]
    )
    with write_transaction():
        ledger = Ledger(world.org.id)
        alice = Entity("PARTICIPANT", world.alice.id)
        movements.credit(
            ledger, miles, world.program.id, alice, Decimal(12), as_of=NOW, expires_at=NOW + timedelta(days=1)
        )
        ledger.finish()
    scheduler.register_ledger_jobs(WorkerSettings())
    assert scheduler.run_due(NOW)["lots"] == 0
    later = NOW + timedelta(days=2)
    assert scheduler.run_due(later) == {"lots": 1, "deferred_credits": 0, "budgets": 0}
    assert scheduler.run_due(later)["lots"] == 0
    (lot,) = LotRecord.select()
    (message,) = WebhookMessage.select()
    data = message.payload["data"]
    assert lot.status == "EXPIRED" and message.type == "balance.expired"
    assert (data["amount"], data["lot_id"], data["participant_id"]) == ("12", lot.id, world.alice.id)
    assert WebhookDelivery.select().count() == 1


def test_the_tier_job_applies_a_period_end_once_and_sends_participant_tier_changed(jobs, queue, world):
    from datetime import UTC, datetime

    import msgspec

    from engine.model.bundle import TierType
    from engine.store import owner_state
    from engine.store.models import ParticipantTier
    from engine.store.tier_types import create_tier_type

    WebhookEndpoint.create(
        organisation=world.org,
        url="http://127.0.0.1:1/h",
        secret="whsec_x",
        enabled_events=["participant.tier_changed"],
    )
    spec = msgspec.convert(
        {
            "key": "status",
            "levels": [{"key": "silver", "rank": 1}, {"key": "gold", "rank": 2}],
            "lifecycle": {
                "retention": {"mode": "PERIOD_BASED"},
                "qualification_period": {"type": "FIXED_YEAR", "start_month": 4, "start_day": 1},
                "downgrade_policy": {"mode": "DROP_ONE"},
            },
        },
        TierType,
    )
    record = create_tier_type(world.org.id, world.program.id, spec)
    with write_transaction():
        origin = owner_state.Origin(program_id=world.program.id, at=datetime(2026, 5, 1, tzinfo=UTC))
        owner_state.set_tier(world.org.id, world.alice.id, record, "gold", 2, origin, reason="API")
    scheduler.register_tier_jobs(WorkerSettings())
    period_end = datetime(2027, 4, 1, tzinfo=UTC)
    assert scheduler.due_counts(period_end) == {"tiers": 1, "tier_rollovers": 0}
    assert scheduler.run_due(period_end) == {"tiers": 1, "tier_rollovers": 0}
    assert scheduler.run_due(period_end) == {"tiers": 0, "tier_rollovers": 0}
    (message,) = WebhookMessage.select()
    assert message.type == "participant.tier_changed"
    data = message.payload["data"]
    assert (data["old_level"], data["new_level"], data["direction"], data["reason"], data["changed_at"]) == (
        "gold",
        "silver",
        "DOWN",
        "PERIOD_END",
        "2027-04-01T00:00:00Z",
    )
    assert WebhookDelivery.select().count() == 1
    assert ParticipantTier.get().period_ends_at == datetime(2028, 4, 1, tzinfo=UTC)


def test_the_tier_jobs_take_a_group_s_level_and_rollover_and_its_webhook_names_the_group(jobs, queue, world):
    from datetime import UTC, datetime
    from decimal import Decimal

    import msgspec

    from engine.model.bundle import TierType
    from engine.store import groups, owner_state
    from engine.store.models import GroupTier, GroupTierRollover
    from engine.store.tier_types import create_tier_type

    WebhookEndpoint.create(
        organisation=world.org,
        url="http://127.0.0.1:1/h",
        secret="whsec_x",
        enabled_events=["participant.tier_changed"],
    )
    gold = {"counter": "spend", "operator": ">=", "threshold": 1000}
    spec = msgspec.convert(
        {
            "key": "household",
            "levels": [{"key": "silver", "rank": 1}, {"key": "gold", "rank": 2, "qualification": {"criteria": [gold]}}],
            "lifecycle": {
                "retention": {"mode": "PERIOD_BASED"},
                "qualification_period": {"type": "CALENDAR_YEAR"},
                "downgrade_policy": {"mode": "DROP_ONE"},
                "counters": {"qualifying": ["spend"], "rollover": "NONE"},
            },
        },
        TierType,
    )
    record = create_tier_type(world.org.id, world.program.id, spec)
    holding = groups.create_group(world.org.id, "Smiths", [groups.Member(world.alice.id, groups.ADMIN)])
    saving = groups.create_group(world.org.id, "Joneses", [groups.Member(world.bob.id, groups.ADMIN)])
    with write_transaction():
        origin = owner_state.Origin(program_id=world.program.id, at=datetime(2026, 5, 1, tzinfo=UTC))
        owner_state.set_tier(world.org.id, holding.id, record, "gold", 2, origin, reason="API", owner_type="GROUP")
        owner_state.set_counter(world.org.id, "GROUP", saving.id, "spend", Decimal(300), origin)
    scheduler.register_tier_jobs(WorkerSettings())
    period_end = datetime(2027, 1, 1, tzinfo=UTC)
    assert scheduler.due_counts(period_end) == {"tiers": 1, "tier_rollovers": 1}
    assert scheduler.run_due(period_end) == {"tiers": 1, "tier_rollovers": 1}
    assert scheduler.run_due(period_end) == {"tiers": 0, "tier_rollovers": 0}
    (message,) = WebhookMessage.select()
    data = message.payload["data"]
    assert (data["group_id"], data["old_level"], data["new_level"], data["reason"]) == (
        holding.id,
        "gold",
        "silver",
        "PERIOD_END",
    )
    assert "participant_id" not in data
    assert GroupTier.get().level == "silver"
    assert GroupTierRollover.select().count() == 0  # the Joneses' 300 rolled over to 0: nothing left to carry
    assert owner_state.load_entity_state("GROUP", saving.id)[1]["spend"].value == 0
