"""Tables of webhook endpoints, the messages sent to them and their deliveries (D27)."""

from __future__ import annotations

import peewee

from engine.store.db import utcnow
from engine.store.fields import JSONField, UTCDateTimeField
from engine.store.models.core import BaseModel, Organisation, Timestamped

# Deliveries still to send: word for word the condition of the partial index of schema step 57
# (SQLite uses a partial index only for a literal condition that matches it).
BACKLOG = "status IN ('PENDING', 'SENDING')"


class WebhookEndpoint(Timestamped):
    organisation = peewee.ForeignKeyField(Organisation, backref="webhook_endpoints", on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    url = peewee.TextField()
    description = peewee.TextField(null=True)
    enabled_events = JSONField(default=lambda: ["*"])
    metadata = JSONField(default=dict)
    status = peewee.CharField(max_length=16, default="ACTIVE")
    secret = peewee.CharField(max_length=128)  # whsec_...; needed in clear to sign deliveries
    deleted_at = UTCDateTimeField(null=True)
    # The circuit breaker (schema step 57, `engine/webhooks/circuit.py`): failed attempts in a row,
    # how many times in a row the circuit opened, and until when no delivery is sent.
    consecutive_failures = peewee.IntegerField(default=0)
    circuit_trips = peewee.IntegerField(default=0)
    circuit_broken_until = UTCDateTimeField(null=True)
    last_attempt_at = UTCDateTimeField(null=True)


class WebhookMessage(BaseModel):
    """One webhook event (the envelope); its `id` is the same for every endpoint receiving it."""

    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    type = peewee.CharField(max_length=64)
    payload = JSONField()
    created_at = UTCDateTimeField(default=utcnow)


class WebhookDelivery(Timestamped):
    endpoint = peewee.ForeignKeyField(WebhookEndpoint, backref="deliveries", on_delete="CASCADE")
    endpoint_id: peewee.Field[str]
    message = peewee.ForeignKeyField(WebhookMessage, backref="deliveries", on_delete="CASCADE")
    message_id: peewee.Field[str]
    event_type = peewee.CharField(max_length=64)
    status = peewee.CharField(max_length=16, default="PENDING")
    attempt_count = peewee.IntegerField(default=0)
    max_attempts = peewee.IntegerField(default=8)
    next_attempt_at = UTCDateTimeField(null=True)
    last_attempt_at = UTCDateTimeField(null=True)
    last_response_status = peewee.IntegerField(null=True)
    last_response_body = peewee.TextField(null=True)
    last_error = peewee.TextField(null=True)
    error_code = peewee.CharField(max_length=64, null=True)
    resend_seq = peewee.IntegerField(default=0)
    delivered_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("endpoint", "id"), False), (("status", "next_attempt_at"), False))


class WebhookAttemptHour(BaseModel):
    """Attempts of one endpoint in one UTC hour, by outcome (schema step 57): the 24-hour counts
    of the delivery stats. Written in the transaction that records each attempt."""

    endpoint = peewee.ForeignKeyField(WebhookEndpoint, on_delete="CASCADE")
    endpoint_id: peewee.Field[str]
    hour = UTCDateTimeField()
    successes = peewee.IntegerField(default=0)
    failures = peewee.IntegerField(default=0)

    class Meta:
        table_name = "webhook_attempt_hour"
        indexes = ((("endpoint", "hour"), True),)
