"""The circuit breaker against a real receiver on loopback: an endpoint that keeps failing is
paused for a growing interval without spending its deliveries' attempts, and recovers by itself;
the delivery stats count the attempts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.store.db import utcnow, write_transaction
from engine.store.models import WebhookAttemptHour, WebhookDelivery, WebhookEndpoint
from engine.webhooks import circuit, delivery, signing
from engine.webhooks import messages as webhooks
from engine.webhooks.health import delivery_stats
from tests.engine.consumer import FAST

from .receiver import Receiver

SETTINGS = type(FAST)(webhook_retry_delays_s=(0,) * 9, webhooks_allow_private=True, webhook_timeout_s=2)


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def endpoint(world, receiver):
    return WebhookEndpoint.create(
        organisation=world.org, url=receiver.url, secret=signing.new_secret(), enabled_events=["participant.*"]
    )


def deliveries(world, count: int) -> list[str]:
    with write_transaction():
        for n in range(count):
            webhooks.publish(world.org.id, "participant.created", {"participant_id": f"p{n}"}, max_attempts=10)
    return [row.id for row in WebhookDelivery.select().order_by(WebhookDelivery.id)]


def attempt(delivery_id: str, now) -> str | None:
    """One attempt at `now`: None when nothing was sent, else the delivery's new status."""
    sending = delivery.claim_delivery(delivery_id, SETTINGS, now=now)
    if sending is None:
        return None
    return delivery.record_outcome(sending, delivery.send(sending, SETTINGS), SETTINGS, now=now)


def test_a_failing_endpoint_is_paused_longer_each_time_and_recovers(queue, world, endpoint, receiver):
    receiver.fail_next = 1000
    ids = deliveries(world, 6)
    start = utcnow() + timedelta(seconds=1)
    for delivery_id in ids[: circuit.FAILURES_TO_TRIP]:
        assert attempt(delivery_id, start) == "PENDING"
    opened = WebhookEndpoint.get_by_id(endpoint.id)
    assert (opened.circuit_trips, opened.consecutive_failures) == (1, circuit.FAILURES_TO_TRIP)
    assert opened.circuit_broken_until == start + timedelta(seconds=circuit.FIRST_BREAK_S)

    assert attempt(ids[5], start + timedelta(seconds=1)) is None  # put off: nothing sent
    waiting = WebhookDelivery.get_by_id(ids[5])
    assert (waiting.attempt_count, waiting.next_attempt_at) == (0, opened.circuit_broken_until)
    assert len(receiver.requests) == circuit.FAILURES_TO_TRIP

    probe = start + timedelta(seconds=circuit.FIRST_BREAK_S + 1)
    assert attempt(ids[5], probe) == "PENDING"  # the break is over: tried, failed, open again at once
    reopened = WebhookEndpoint.get_by_id(endpoint.id)
    assert reopened.circuit_trips == 2
    assert reopened.circuit_broken_until == probe + timedelta(seconds=2 * circuit.FIRST_BREAK_S)
    assert attempt(ids[0], probe + timedelta(seconds=1)) is None

    receiver.fail_next = 0  # the receiver is back
    later = reopened.circuit_broken_until + timedelta(seconds=1)
    assert attempt(ids[0], later) == "DELIVERED"
    closed = WebhookEndpoint.get_by_id(endpoint.id)
    assert (closed.circuit_trips, closed.consecutive_failures, closed.circuit_broken_until) == (0, 0, None)
    assert len(receiver.requests) == circuit.FAILURES_TO_TRIP + 2

    (health,) = delivery_stats(world.org.id, later)
    assert (health.success_24h, health.fail_24h, health.pending_count) == (1, 6, 5)
    assert health.degraded and health.circuit_broken_until is None and health.oldest_pending_at is not None
    assert delivery_stats(world.org.id, later + timedelta(days=1))[0].fail_24h == 0


def test_attempts_under_way_when_the_circuit_opens_do_not_open_it_further(queue, world, endpoint, receiver):
    receiver.fail_next = 1000
    ids = deliveries(world, circuit.FAILURES_TO_TRIP + 1)
    now = utcnow() + timedelta(seconds=1)
    late = delivery.claim_delivery(ids[-1], SETTINGS, now=now)  # claimed before the circuit opened
    for delivery_id in ids[:-1]:
        attempt(delivery_id, now)
    assert late is not None
    delivery.record_outcome(late, delivery.send(late, SETTINGS), SETTINGS, now=now)
    row = WebhookEndpoint.get_by_id(endpoint.id)
    assert (row.circuit_trips, row.consecutive_failures) == (1, circuit.FAILURES_TO_TRIP + 1)


def test_break_intervals_double_up_to_an_hour():
    assert [circuit.break_seconds(n) for n in (1, 2, 3, 8, 50)] == [30, 60, 120, 3600, 3600]


def test_hourly_counts_older_than_two_days_are_pruned(queue, world, endpoint):
    now = utcnow()
    with write_transaction():
        for hours_ago in (0, 47, 49, 72):
            circuit.record_attempt(endpoint.id, True, now - timedelta(hours=hours_ago))
    assert circuit.prune_attempt_hours(now, 1) == 1
    assert circuit.prune_attempt_hours(now, 10) == 1
    assert WebhookAttemptHour.select().count() == 2
