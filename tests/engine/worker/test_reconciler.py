"""The reconciler repairs what a killed worker or a lost wake-up left behind."""

from __future__ import annotations

from datetime import timedelta

from engine.store import lanes
from engine.store.db import utcnow, write_transaction
from engine.store.lanes import lane_of
from engine.store.models import EventRecord, WebhookDelivery, WebhookEndpoint
from engine.webhooks import messages as webhooks
from engine.worker import processor
from engine.worker.reconciler import reconcile
from tests.engine.consumer import FAST

from .pipelines import CreditOnePoint


def test_a_healthy_system_needs_nothing(queue, world):
    world.event(key="e1")  # fresh: its wake-up is still queued
    assert reconcile(FAST).total == 0


def test_an_event_whose_worker_died_is_released_and_woken(queue, world):
    event = world.event(key="e1")
    lanes.claim_next(lane_of(event), lease_s=30)
    queue.huey.flush()  # the dead worker had taken the wake-up
    assert reconcile(FAST).total == 0  # lease still running
    EventRecord.update(next_attempt_at=utcnow() - timedelta(seconds=1)).execute()  # ... and now it ran out
    report = reconcile(FAST)
    assert report.events_released == 1
    row = EventRecord.get_by_id(event.id)
    assert (row.status, row.attempts) == ("PENDING", 1)
    assert [t.args for t in queue.huey.pending()] == [(event.id,)]
    processor.drain_lane(lane_of(event), FAST, CreditOnePoint())
    assert EventRecord.get_by_id(event.id).attempts == 2


def test_an_event_that_kills_every_worker_ends_failed(queue, world):
    event = world.event(key="e1")
    EventRecord.update(
        status="PROCESSING", attempts=FAST.event_max_attempts, next_attempt_at=utcnow() - timedelta(seconds=1)
    ).execute()
    report = reconcile(FAST)
    assert report.events_failed == 1
    row = EventRecord.get_by_id(event.id)
    assert (row.status, row.error_code) == ("FAILED", "worker_lost")


def test_a_lost_wakeup_is_sent_again_once_per_stale_period(queue, world):
    event = world.event(key="e1", enqueue=False)
    later = utcnow() + timedelta(seconds=FAST.reconcile_stale_s + 1)
    assert reconcile(FAST, now=later).events_woken == 1
    assert [t.args for t in queue.huey.pending()] == [(event.id,)]
    assert reconcile(FAST, now=later + timedelta(seconds=1)).events_woken == 0  # touched: not stale yet


def test_a_delivery_whose_sender_died_is_released(queue, world):
    WebhookEndpoint.create(organisation=world.org, url="http://127.0.0.1:1/h", secret="whsec_x", enabled_events=["*"])
    with write_transaction():
        webhooks.publish(world.org.id, "event.completed", {"id": "e"})
    WebhookDelivery.update(status="SENDING", attempt_count=1, next_attempt_at=utcnow() - timedelta(seconds=1)).execute()
    queue.huey.flush()
    report = reconcile(FAST)
    assert report.deliveries_released == 1
    assert WebhookDelivery.get().status == "PENDING"
    assert [t.name for t in queue.huey.pending()] == ["deliver_webhook"]


def test_stale_events_are_not_woken_while_the_queue_is_busy(queue, world):
    world.event(key="e1", enqueue=False)
    world.event("bob", key="e2")  # its wake-up is still queued: a backlog is being worked through
    later = utcnow() + timedelta(seconds=FAST.reconcile_stale_s + 1)
    assert reconcile(FAST, now=later).events_woken == 0
    queue.huey.flush()
    assert reconcile(FAST, now=later).events_woken == 2


def test_one_wakeup_per_lane(queue, world):
    from datetime import UTC, datetime

    first = world.event(key="a", at=datetime(2026, 1, 1, tzinfo=UTC), enqueue=False)
    world.event(key="b", at=datetime(2026, 1, 2, tzinfo=UTC), enqueue=False)
    later = utcnow() + timedelta(seconds=FAST.reconcile_stale_s + 1)
    assert reconcile(FAST, now=later).events_woken == 1
    assert [t.args for t in queue.huey.pending()] == [(first.id,)]


def test_a_delivery_lost_on_its_last_attempt_ends_failed(queue, world):
    WebhookEndpoint.create(organisation=world.org, url="http://127.0.0.1:1/h", secret="whsec_x", enabled_events=["*"])
    with write_transaction():
        webhooks.publish(world.org.id, "event.completed", {"id": "e"}, max_attempts=2)
    WebhookDelivery.update(status="SENDING", attempt_count=2, next_attempt_at=utcnow() - timedelta(seconds=1)).execute()
    reconcile(FAST)
    row = WebhookDelivery.get()
    assert (row.status, row.error_code) == ("FAILED", "sender_lost")


def test_a_long_lost_wakeup_is_sent_again_even_while_the_queue_is_busy(queue, world):
    from engine.worker.reconciler import STALE_UNDER_LOAD

    lost = world.event(key="e1", enqueue=False)
    world.event("bob", key="e2")  # a wake-up still queued: the queue is busy
    stale = utcnow() + timedelta(seconds=FAST.reconcile_stale_s + 1)
    assert reconcile(FAST, now=stale).events_woken == 0  # merely stale: left to the backlog
    long_stale = utcnow() + timedelta(seconds=FAST.reconcile_stale_s * STALE_UNDER_LOAD + 1)
    assert reconcile(FAST, now=long_stale).events_woken == 2  # both lanes, once each
    assert lost.id in {t.args[0] for t in queue.huey.pending()}
