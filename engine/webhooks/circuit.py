"""The circuit breaker of webhook endpoints, and the attempts per hour behind their 24-hour
counts (A191).

    record_attempt(endpoint_id, ok, now)     # in the transaction that records the attempt
    broken_until(endpoint, now)              # None, or until when nothing is sent to it

An endpoint whose attempts fail `FAILURES_TO_TRIP` times in a row is paused: its circuit opens
for `FIRST_BREAK_S` seconds, and each time it opens again without a success in between, twice as
long (at most `MAX_BREAK_S`). While it is open, a delivery that comes due is put off until the
circuit closes, without spending one of its attempts. When the break ends, due deliveries are
sent again: one success closes the circuit and forgets the trips; a failure opens it again at
once (the trips count on), so a dead receiver is tried a few times an hour instead of being
hammered, and a receiver that comes back is used again by itself. Attempts already under way
when the circuit opens finish and count, without opening it further.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.store import statements
from engine.store.db import write_transaction
from engine.store.models import WebhookAttemptHour, WebhookEndpoint

FAILURES_TO_TRIP = 5
FIRST_BREAK_S = 30.0
MAX_BREAK_S = 3600.0


def break_seconds(trips: int) -> float:
    """How long the circuit stays open after its `trips`-th opening in a row (1-based)."""
    return min(FIRST_BREAK_S * 2 ** (max(trips, 1) - 1), MAX_BREAK_S)


def broken_until(endpoint: WebhookEndpoint, now: datetime) -> datetime | None:
    until = endpoint.circuit_broken_until
    return until if until is not None and until > now else None


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def record_attempt(endpoint_id: str, ok: bool, now: datetime) -> WebhookEndpoint | None:
    """Count one attempt and move the circuit; the endpoint's row is locked for the update.
    Returns the endpoint as updated (None if it is gone)."""
    _count_hour(endpoint_id, ok, now)
    found = statements.fetch(WebhookEndpoint, "id = {p}", [endpoint_id], for_update=True)
    if not found:
        return None
    endpoint = found[0]
    endpoint.last_attempt_at = now
    if ok:
        endpoint.consecutive_failures, endpoint.circuit_trips, endpoint.circuit_broken_until = 0, 0, None
    else:
        endpoint.consecutive_failures += 1
        already_open = broken_until(endpoint, now) is not None
        if not already_open and (endpoint.circuit_trips > 0 or endpoint.consecutive_failures >= FAILURES_TO_TRIP):
            endpoint.circuit_trips += 1
            endpoint.circuit_broken_until = now + timedelta(seconds=break_seconds(endpoint.circuit_trips))
    WebhookEndpoint.update(
        last_attempt_at=endpoint.last_attempt_at,
        consecutive_failures=endpoint.consecutive_failures,
        circuit_trips=endpoint.circuit_trips,
        circuit_broken_until=endpoint.circuit_broken_until,
    ).where(WebhookEndpoint.id == endpoint_id).execute()
    return endpoint


def _count_hour(endpoint_id: str, ok: bool, now: datetime) -> None:
    successes, failures = (1, 0) if ok else (0, 1)
    WebhookAttemptHour.insert(
        endpoint=endpoint_id, hour=hour_of(now), successes=successes, failures=failures
    ).on_conflict(
        conflict_target=[WebhookAttemptHour.endpoint, WebhookAttemptHour.hour],
        update={
            WebhookAttemptHour.successes: WebhookAttemptHour.successes + successes,
            WebhookAttemptHour.failures: WebhookAttemptHour.failures + failures,
        },
    ).execute()


KEEP_HOURS = 48  # the 24-hour counts need 24; the rest is slack


def prune_attempt_hours(now: datetime, limit: int) -> int:
    """Delete up to `limit` hourly rows older than `KEEP_HOURS` (a scheduler job); returns how many."""
    cutoff = hour_of(now) - timedelta(hours=KEEP_HOURS)
    with write_transaction():
        ids = [
            row.id
            for row in WebhookAttemptHour.select(WebhookAttemptHour.id)
            .where(WebhookAttemptHour.hour < cutoff)
            .limit(limit)
        ]
        if ids:
            WebhookAttemptHour.delete().where(WebhookAttemptHour.id.in_(ids)).execute()
    return len(ids)
