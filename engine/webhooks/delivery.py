"""Sending webhook deliveries: claim, sign, post, record; 8 attempts with backoff (D27).

A delivery goes PENDING -> SENDING -> DELIVERED, or back to PENDING with `next_attempt_at` after a
failed attempt, or FAILED once `max_attempts` attempts failed. Like events, the row is the truth
and the task a wake-up:

1. claim (short transaction): PENDING and due -> SENDING, `attempt_count + 1` (the fencing
   token), `next_attempt_at` = end of the sending lease;
2. sign and POST outside any transaction (the per-attempt timeout bounds it);
3. record (short transaction, only if the row still carries our token): DELIVERED, or the next
   attempt scheduled with its wake-up, or FAILED.

While the endpoint's circuit is open (`engine/webhooks/circuit.py`), step 1 puts the delivery off
until it closes instead, and step 3 counts every attempt towards the circuit.

A sender killed between 1 and 3 leaves a SENDING row whose lease expires; the reconciler puts it
back to PENDING. So a receiver may see a delivery twice (at-least-once, as every webhook system):
it dedupes on `webhook-id`, which is the webhook event's id and never changes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import msgspec

from engine.queue import connection, enqueue_delivery
from engine.settings import WorkerSettings
from engine.store.db import utcnow, write_transaction
from engine.store.models import WebhookDelivery, WebhookEndpoint, WebhookMessage
from engine.webhooks import circuit, http, signing

if TYPE_CHECKING:
    from engine.queue import Queue
PENDING, SENDING, DELIVERED, FAILED = "PENDING", "SENDING", "DELIVERED", "FAILED"


@dataclass(frozen=True)
class Sending:
    """A claimed delivery with everything needed to send it."""

    delivery_id: str
    endpoint_id: str
    attempt: int
    max_attempts: int
    url: str
    secret: str
    message_id: str
    body: bytes


_clients: dict[tuple[float, bool], httpx.Client] = {}
_clients_lock = threading.Lock()


def client_for(settings: WorkerSettings) -> httpx.Client:
    """One HTTP client per process and settings (connection reuse across deliveries)."""
    key = (settings.webhook_timeout_s, settings.webhooks_allow_private)
    with _clients_lock:
        if key not in _clients:
            _clients[key] = http.build_client(timeout_s=key[0], allow_private=key[1])
        return _clients[key]


def deliver_task(queue: Queue, delivery_id: str) -> None:
    """The `deliver_webhook` task: one attempt of one delivery, if it is due."""
    settings = queue.settings
    with connection(queue.database):
        sending = claim_delivery(delivery_id, settings)
        if sending is None:
            return
        outcome = send(sending, settings)  # outside any transaction and any turn: it may take seconds
        record_outcome(sending, outcome, settings)


def claim_delivery(delivery_id: str, settings: WorkerSettings, now: datetime | None = None) -> Sending | None:
    """PENDING and due -> SENDING under a lease; None if not due, gone, or someone else's.

    An endpoint that is no longer ACTIVE ends the delivery FAILED (`endpoint_not_active`).
    """
    now = now or utcnow()
    lease = timedelta(seconds=settings.webhook_timeout_s * 3 + 5)
    with write_transaction():
        row = (
            WebhookDelivery.select(WebhookDelivery, WebhookEndpoint, WebhookMessage)
            .join(WebhookEndpoint)
            .switch(WebhookDelivery)
            .join(WebhookMessage)
            .where(
                (WebhookDelivery.id == delivery_id)
                & (WebhookDelivery.status == PENDING)
                & (WebhookDelivery.next_attempt_at <= now)
            )
            .first()
        )
        if row is None:
            return None
        endpoint = row.endpoint
        if endpoint.status != "ACTIVE" or endpoint.deleted_at is not None:
            state = "ARCHIVED" if endpoint.deleted_at is not None else endpoint.status
            _finish(
                row.id,
                row.attempt_count,
                now,
                PENDING,
                FAILED,
                error_code="endpoint_not_active",
                last_error=f"the endpoint is {state}",
            )
            return None
        paused = circuit.broken_until(endpoint, now)
        if paused is not None:
            _put_off(row.id, now, paused)
            return None
        attempt = row.attempt_count + 1
        taken = (
            WebhookDelivery.update(
                status=SENDING,
                attempt_count=attempt,
                next_attempt_at=now + lease,
                last_attempt_at=now,
                updated_at=now,
            )
            .where((WebhookDelivery.id == row.id) & (WebhookDelivery.status == PENDING))
            .execute()
        )
        if taken != 1:
            return None
        return Sending(
            delivery_id=row.id,
            endpoint_id=endpoint.id,
            attempt=attempt,
            max_attempts=row.max_attempts,
            url=endpoint.url,
            secret=endpoint.secret,
            message_id=row.message.id,
            body=msgspec.json.encode(row.message.payload),
        )


def send(sending: Sending, settings: WorkerSettings) -> http.AttemptOutcome:
    """Sign and POST once. The URL is re-checked: an endpoint saved under the development flag
    is not sent to by a worker running without it."""
    try:
        http.validate_endpoint_url(sending.url, allow_private=settings.webhooks_allow_private)
    except http.WebhookUrlError as exc:
        return http.AttemptOutcome(False, error=str(exc), error_code="destination_blocked")
    headers = signing.signed_headers(sending.secret, sending.message_id, sending.body)
    return http.send_attempt(client_for(settings), sending.url, headers, sending.body)


def record_outcome(
    sending: Sending, outcome: http.AttemptOutcome, settings: WorkerSettings, now: datetime | None = None
) -> str | None:
    """Write what the attempt produced; returns the new status (None if the claim was lost)."""
    now = now or utcnow()
    with write_transaction():
        if outcome.ok:
            status = DELIVERED
        elif sending.attempt >= sending.max_attempts or outcome.error_code == "destination_blocked":
            status = FAILED  # out of attempts, or a destination this worker will never send to
        else:
            status = PENDING
        delay_s = retry_delay_s(settings, sending.attempt)
        changed = _finish(
            sending.delivery_id,
            sending.attempt,
            now,
            SENDING,
            status,
            next_attempt_at=now + timedelta(seconds=delay_s) if status == PENDING else None,
            delivered_at=now if outcome.ok else None,
            last_response_status=outcome.status,
            last_response_body=outcome.body,
            last_error=outcome.error,
            error_code=outcome.error_code,
        )
        if not changed:
            return None
        circuit.record_attempt(sending.endpoint_id, outcome.ok, now)
        if status == PENDING:
            enqueue_delivery(sending.delivery_id, delay_s=delay_s)
        return status


def _put_off(delivery_id: str, now: datetime, until: datetime) -> None:
    """The endpoint's circuit is open: the delivery waits until it closes, keeping its attempts."""
    WebhookDelivery.update(next_attempt_at=until, updated_at=now).where(
        (WebhookDelivery.id == delivery_id) & (WebhookDelivery.status == PENDING)
    ).execute()
    enqueue_delivery(delivery_id, delay_s=(until - now).total_seconds())


def retry_delay_s(settings: WorkerSettings, attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    delays = settings.webhook_retry_delays_s
    return delays[min(attempt, len(delays)) - 1] if delays else 0.0


def _finish(delivery_id: str, attempt: int, now: datetime, from_status: str, status: str, **fields: object) -> bool:
    """Move the delivery from `from_status` to `status` if it still carries fencing token `attempt`."""
    return (
        WebhookDelivery.update(status=status, updated_at=now, **fields)
        .where(
            (WebhookDelivery.id == delivery_id)
            & (WebhookDelivery.status == from_status)
            & (WebhookDelivery.attempt_count == attempt)
        )
        .execute()
        == 1
    )
