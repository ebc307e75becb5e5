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
