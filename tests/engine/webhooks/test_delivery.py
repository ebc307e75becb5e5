"""Webhook delivery against a real receiver on loopback: signed, retried, failed, fenced."""

from __future__ import annotations

import json

import msgspec
import pytest

from engine.store.db import write_transaction
from engine.store.models import WebhookDelivery, WebhookEndpoint
from engine.webhooks import delivery, signing
from engine.webhooks import messages as webhooks
from tests.engine.consumer import FAST, drain

from .receiver import Receiver


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def endpoint(world, receiver):
    return WebhookEndpoint.create(
        organisation=world.org, url=receiver.url, secret=signing.new_secret(), enabled_events=["participant.*"]
    )


def publish(world, data=None):
    with write_transaction():
        return webhooks.publish(
            world.org.id,
            "participant.created",
            data or {"participant_id": "p1"},
            max_attempts=FAST.webhook_max_attempts,
        )


def test_a_delivery_arrives_signed_and_is_marked_delivered(queue, world, endpoint, receiver):
    message = publish(world)
    assert drain(queue) == 1
    ((headers, body),) = receiver.requests
    signing.verify(endpoint.secret, headers, body)
    assert headers["webhook-id"] == message.id
    envelope = json.loads(body)
    assert envelope["type"] == "participant.created" and envelope["id"] == message.id
    assert envelope["organization_id"] == world.org.id and envelope["api_version"] == webhooks.API_VERSION
    (row,) = WebhookDelivery.select()
    assert (row.status, row.attempt_count, row.last_response_status) == ("DELIVERED", 1, 200)
    assert row.delivered_at is not None and row.error_code is None


def test_failures_retry_then_deliver(queue, world, endpoint, receiver):
    receiver.fail_next = 2
    publish(world)
    assert drain(queue) == 3
    (row,) = WebhookDelivery.select()
    assert (row.status, row.attempt_count) == ("DELIVERED", 3)
    assert len({h["webhook-id"] for h, _ in receiver.requests}) == 1  # the same id on every attempt


def test_a_delivery_fails_after_max_attempts(queue, world, endpoint, receiver):
    receiver.fail_next = 100
    publish(world)
    assert drain(queue) == FAST.webhook_max_attempts
    (row,) = WebhookDelivery.select()
    assert (row.status, row.attempt_count) == ("FAILED", FAST.webhook_max_attempts)
    assert (row.last_response_status, row.error_code, row.last_response_body) == (
        503,
        "consumer_http_error",
        "try later",
    )


def test_backoff_schedules_the_retry(queue, world, endpoint, receiver):
    receiver.fail_next = 1
    settings = type(FAST)(webhook_retry_delays_s=(60,), webhooks_allow_private=True, webhook_timeout_s=2)
    message = publish(world)
    (row,) = WebhookDelivery.select()
    sending = delivery.claim_delivery(row.id, settings)
    assert delivery.record_outcome(sending, delivery.send(sending, settings), settings) == "PENDING"
    row = WebhookDelivery.get_by_id(row.id)
    assert row.status == "PENDING" and row.next_attempt_at > row.last_attempt_at
    assert delivery.claim_delivery(row.id, settings) is None  # not due for a minute
    assert row.message_id == message.id


def test_unsubscribed_and_inactive_endpoints_get_nothing(queue, world, receiver):
    WebhookEndpoint.create(
        organisation=world.org, url=receiver.url, secret=signing.new_secret(), enabled_events=["event.failed"]
    )
    WebhookEndpoint.create(
        organisation=world.org, url=receiver.url, secret=signing.new_secret(), enabled_events=["*"], status="DISABLED"
    )
    assert publish(world) is None
    assert WebhookDelivery.select().count() == 0


def test_publish_rolls_back_with_the_change_it_reports(queue, world, endpoint):
    with pytest.raises(ZeroDivisionError), write_transaction():
        webhooks.publish(world.org.id, "participant.created", {"participant_id": "p1"})
        1 / 0  # noqa: B018
    assert WebhookDelivery.select().count() == 0
    assert queue.huey.pending_count() == 0


def test_an_endpoint_disabled_after_publishing_fails_the_delivery(queue, world, endpoint, receiver):
    publish(world)
    WebhookEndpoint.update(status="DISABLED").execute()
    drain(queue)
    (row,) = WebhookDelivery.select()
    assert (row.status, row.error_code) == ("FAILED", "endpoint_not_active")
    assert receiver.requests == []


def test_a_worker_without_the_development_flag_refuses_loopback(queue, world, endpoint, receiver):
    strict = type(FAST)(webhook_retry_delays_s=(), webhooks_allow_private=False)
    publish(world)
    (row,) = WebhookDelivery.select()
    sending = delivery.claim_delivery(row.id, strict)
    assert delivery.record_outcome(sending, delivery.send(sending, strict), strict) == "FAILED"
    assert WebhookDelivery.get_by_id(row.id).error_code == "destination_blocked"
    assert receiver.requests == []


def test_a_sender_that_lost_its_claim_records_nothing(queue, world, endpoint, receiver):
    publish(world)
    (row,) = WebhookDelivery.select()
    sending = delivery.claim_delivery(row.id, FAST)
    WebhookDelivery.update(status="PENDING", attempt_count=5).execute()  # taken over after a lease expiry
    outcome = delivery.send(sending, FAST)
    assert delivery.record_outcome(sending, outcome, FAST) is None
    assert WebhookDelivery.get_by_id(row.id).status == "PENDING"


def test_subscription_patterns():
    assert webhooks.subscribed(["*"], "event.completed")
    assert webhooks.subscribed(["balance.*", "event.failed"], "balance.released")
    assert not webhooks.subscribed(["balance.*"], "event.completed")
    assert not webhooks.subscribed([], "event.completed")


def test_envelope_encodes_deterministically(world):
    from datetime import UTC, datetime

    env = webhooks.envelope("m1", "o1", "event.completed", {"b": 1, "a": "x"}, datetime(2026, 1, 1, tzinfo=UTC))
    assert msgspec.json.encode(env) == (
        b'{"id":"m1","type":"event.completed","api_version":"2026-03-01",'
        b'"created_at":"2026-01-01T00:00:00Z","organization_id":"o1","data":{"b":1,"a":"x"}}'
    )
