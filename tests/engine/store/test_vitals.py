"""The operator's figures from the database: recent events by status, the queue and its oldest
pending event, processing latency buckets, webhook attempts, backlog and open circuits."""

from __future__ import annotations

from datetime import timedelta

from engine.store.db import utcnow, write_transaction
from engine.store.models import EventRecord, WebhookEndpoint
from engine.store.vitals import LATENCY_BUCKETS_S, vitals
from engine.webhooks import circuit, signing
from tests.engine.world import World


def test_events_queue_and_latency(db):
    world = World()
    now = utcnow()
    done = [world.event(key=f"k{n}", enqueue=False) for n in range(3)]
    waiting = world.event(key="w", enqueue=False)
    for row, seconds in zip(done, (0.02, 0.3, 400.0), strict=True):
        EventRecord.update(status="COMPLETED", processed_at=row.created_at + timedelta(seconds=seconds)).where(
            EventRecord.id == row.id
        ).execute()
    EventRecord.update(created_at=now - timedelta(seconds=90)).where(EventRecord.id == waiting.id).execute()
    figures = vitals(now)
    assert figures.events_by_status == {"COMPLETED": 3, "PENDING": 1}
    assert figures.queue_depth == {"PENDING": 1}
    assert figures.oldest_pending_age_s is not None and 89 <= figures.oldest_pending_age_s <= 91
    buckets = dict(figures.latency.buckets)
    assert (buckets[0.05], buckets[0.5], buckets[LATENCY_BUCKETS_S[-1]], figures.latency.count) == (1, 2, 2, 3)
    assert 400 < figures.latency.total_s < 401
    assert vitals(now + timedelta(hours=2)).events_by_status == {}  # out of the window, still in the queue


def test_webhooks_and_a_quiet_database(db):
    world = World()
    now = utcnow()
    quiet = vitals(now)
    assert (quiet.queue_depth, quiet.oldest_pending_age_s, quiet.latency.count, quiet.rule_errors) == ({}, None, 0, [])
    endpoint = WebhookEndpoint.create(
        organisation=world.org, url="https://example.com/h", secret=signing.new_secret(), enabled_events=["*"]
    )
    with write_transaction():
        circuit.record_attempt(endpoint.id, True, now - timedelta(hours=30))  # out of the 24 hours
        for _ in range(circuit.FAILURES_TO_TRIP):
            circuit.record_attempt(endpoint.id, False, now)
    figures = vitals(now)
    assert figures.webhook_attempts == {"success": 0, "failure": circuit.FAILURES_TO_TRIP}
    assert (figures.webhook_circuits_open, figures.webhook_backlog) == (1, 0)
