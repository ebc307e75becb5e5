"""The reconciler: wakes rows whose wake-up was lost and frees rows whose worker died.

Huey loses the task in flight when a consumer is killed, and a non-transactional queue (Redis)
can lose a wake-up between a commit and the enqueue. The rows still say what is left to do, so a
periodic pass repairs every case:

    event PROCESSING, lease over        -> PENDING (or FAILED `worker_lost` when out of attempts),
                                           and woken
    event PENDING, due for `stale_s`    -> woken again, once per lane (its wake-up was lost), when
                                           the queue is empty; while it is not, only when due for
                                           `STALE_UNDER_LOAD` times as long
    delivery SENDING, lease over        -> PENDING and woken (FAILED `sender_lost` if that was its
                                           last attempt)
    delivery PENDING, due for `stale_s` -> woken again, when the queue is empty

Woken rows get `next_attempt_at = now`, so one row is woken at most once per `stale_s`. Several
reconcilers may run at once: every change is a conditional UPDATE, and wake-ups are idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import SQL

from engine.model.vocabulary import EventStatus
from engine.queue import current_queue, enqueue_delivery, enqueue_event
from engine.settings import WorkerSettings
from engine.store.db import utcnow, write_transaction
from engine.store.lanes import FAILED, PENDING, PROCESSING, due_time, lane_of
from engine.store.models import OPEN_EVENTS, EventRecord, WebhookDelivery
from engine.worker.processor import publish_failed

BATCH = 500  # rows per kind per pass; the next pass continues
# While the queue is busy a lane whose wake-up was lost (a crashed task; an event that arrived
# while its lane was awake has no wake-up of its own) would otherwise wait for the queue to empty,
# which a sustained load may never let happen. So a row due for this many times `stale_s` is woken
# anyway: at most one duplicate wake-up per lane per that period.
STALE_UNDER_LOAD = 10


@dataclass(frozen=True)
class ReconcileReport:
    events_released: int = 0
    events_failed: int = 0
    events_woken: int = 0
    deliveries_released: int = 0
    deliveries_woken: int = 0

    @property
    def total(self) -> int:
        return sum(vars(self).values())


def reconcile(settings: WorkerSettings, now: datetime | None = None) -> ReconcileReport:
    """One pass over events and deliveries (see module docstring).

    >>> reconcile(WorkerSettings()).total   # 0 on a healthy system
    0
    """
    now = now or utcnow()
    released, failed = _release_expired_events(settings, now)
    deliveries_released = _release_expired_deliveries(now)
    woken = deliveries_woken = 0
    # Stale PENDING rows are woken only when the queue is empty: while tasks wait, the backlog is
    # being worked through, and waking every row of a long backlog would flood the queue with
    # no-op duplicates. Wake-ups lost meanwhile are recovered as soon as the queue drains, or once
    # they are `STALE_UNDER_LOAD` times as stale.
    if current_queue().huey.pending_count() == 0:
        woken = _wake_stale_events(now, settings.reconcile_stale_s)
        deliveries_woken = _wake_stale_deliveries(settings, now)
    else:
        woken = _wake_stale_events(now, settings.reconcile_stale_s * STALE_UNDER_LOAD)
    return ReconcileReport(released, failed, woken, deliveries_released, deliveries_woken)


def _release_expired_events(settings: WorkerSettings, now: datetime) -> tuple[int, int]:
    released = failed = 0
    with write_transaction():
        expired = list(
            EventRecord.select()
            .where(SQL(OPEN_EVENTS) & (EventRecord.status == PROCESSING) & (EventRecord.next_attempt_at <= now))
            .limit(BATCH)
        )
        for event in expired:
            out_of_attempts = event.attempts >= settings.event_max_attempts
            fields = (
                {
                    "status": FAILED,
                    "processed_at": now,
                    "next_attempt_at": None,
                    "error_code": "worker_lost",
                    "error_message": f"the worker stopped during each of {event.attempts} attempts",
                }
                if out_of_attempts
                else {"status": PENDING, "next_attempt_at": now}
            )
            changed = (
                EventRecord.update(updated_at=now, **fields)
                .where(
                    (EventRecord.id == event.id)
                    & (EventRecord.status == PROCESSING)
                    & (EventRecord.attempts == event.attempts)
                )
                .execute()
            )
            if changed != 1:
                continue
            if out_of_attempts:
                failed += 1
                publish_failed(EventRecord.get_by_id(event.id), settings, now)
            else:
                released += 1
                enqueue_event(event.id)
    return released, failed


def _wake_stale_events(now: datetime, stale_s: float) -> int:
    stale_before = now - timedelta(seconds=stale_s)
    with write_transaction():
        stale = list(
            EventRecord.select(
                EventRecord.id, EventRecord.organisation, EventRecord.external_id, EventRecord.participant
            )
            .where(SQL(OPEN_EVENTS) & (EventRecord.status == PENDING) & (due_time() <= stale_before))
            .order_by(EventRecord.event_timestamp)
            .limit(BATCH)
        )
        if not stale:
            return 0
        EventRecord.update(next_attempt_at=now).where(
            EventRecord.id.in_([event.id for event in stale]) & (EventRecord.status == PENDING)
        ).execute()
        # One wake-up per lane: the woken worker drains the whole lane.
        first_of_lane = {lane_of(event).key: event.id for event in reversed(stale)}
        for event_id in first_of_lane.values():
            enqueue_event(event_id)
    return len(first_of_lane)


def _release_expired_deliveries(now: datetime) -> int:
    with write_transaction():
        ids = [
            row.id
            for row in WebhookDelivery.select(WebhookDelivery.id)
            .where((WebhookDelivery.status == "SENDING") & (WebhookDelivery.next_attempt_at <= now))
            .limit(BATCH)
        ]
        if not ids:
            return 0
        WebhookDelivery.update(
            status=EventStatus.FAILED,
            next_attempt_at=None,
            updated_at=now,
            error_code="sender_lost",
            last_error="the sender stopped during the last attempt",
        ).where(
            WebhookDelivery.id.in_(ids)
            & (WebhookDelivery.status == "SENDING")
            & (WebhookDelivery.attempt_count >= WebhookDelivery.max_attempts)
        ).execute()
        WebhookDelivery.update(status="PENDING", next_attempt_at=now, updated_at=now).where(
            WebhookDelivery.id.in_(ids) & (WebhookDelivery.status == "SENDING")
        ).execute()
        for delivery_id in ids:
            enqueue_delivery(delivery_id)
    return len(ids)


def _wake_stale_deliveries(settings: WorkerSettings, now: datetime) -> int:
    stale_before = now - timedelta(seconds=settings.reconcile_stale_s)
    with write_transaction():
        ids = [
            row.id
            for row in WebhookDelivery.select(WebhookDelivery.id)
            .where((WebhookDelivery.status == "PENDING") & (WebhookDelivery.next_attempt_at <= stale_before))
            .limit(BATCH)
        ]
        if not ids:
            return 0
        WebhookDelivery.update(next_attempt_at=now).where(
            WebhookDelivery.id.in_(ids) & (WebhookDelivery.status == "PENDING")
        ).execute()
        for delivery_id in ids:
            enqueue_delivery(delivery_id)
    return len(ids)
