"""The health of an organisation's webhook endpoints (Scrip's delivery stats, A191): per endpoint
the attempts of the last 24 hours by outcome, the backlog and the circuit breaker's state.

    delivery_stats(org_id, now)   # [EndpointHealth, ...], one per endpoint not archived

The 24-hour counts sum the hourly rows of `webhook_attempt_hour` (written with each attempt) of
the current UTC hour and the 23 before it; the backlog reads the partial index of PENDING and
SENDING deliveries (schema step 57), so the cost is the endpoints, not the deliveries' history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from peewee import SQL, fn

from engine.store.models import WebhookAttemptHour, WebhookDelivery, WebhookEndpoint
from engine.store.models.webhooks import BACKLOG
from engine.webhooks.circuit import broken_until, hour_of

DEGRADED_BELOW = 0.9  # a success rate under this over the last 24 hours is degraded


@dataclass(frozen=True)
class EndpointHealth:
    endpoint: WebhookEndpoint
    success_24h: int
    fail_24h: int
    pending_count: int
    oldest_pending_at: datetime | None
    circuit_broken_until: datetime | None

    @property
    def success_rate(self) -> float | None:
        attempts = self.success_24h + self.fail_24h
        return self.success_24h / attempts if attempts else None

    @property
    def degraded(self) -> bool:
        rate = self.success_rate
        return self.circuit_broken_until is not None or (rate is not None and rate < DEGRADED_BELOW)


def delivery_stats(organisation_id: str, now: datetime) -> list[EndpointHealth]:
    endpoints = list(
        WebhookEndpoint.select()
        .where((WebhookEndpoint.organisation == organisation_id) & WebhookEndpoint.deleted_at.is_null())
        .order_by(WebhookEndpoint.id.desc())
    )
    ids = [endpoint.id for endpoint in endpoints]
    if not ids:
        return []
    attempt_rows = (
        WebhookAttemptHour.select(
            WebhookAttemptHour.endpoint, fn.SUM(WebhookAttemptHour.successes), fn.SUM(WebhookAttemptHour.failures)
        )
        .where(WebhookAttemptHour.endpoint.in_(ids) & (WebhookAttemptHour.hour >= hour_of(now) - timedelta(hours=23)))
        .group_by(WebhookAttemptHour.endpoint)
        .tuples()
    )
    attempts: dict[str, tuple[int, int]] = {
        row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in cast("list[tuple]", list(attempt_rows))
    }
    backlog_rows = (
        WebhookDelivery.select(
            WebhookDelivery.endpoint, fn.COUNT(WebhookDelivery.id), fn.MIN(WebhookDelivery.created_at)
        )
        .where(WebhookDelivery.endpoint.in_(ids) & SQL(BACKLOG))
        .group_by(WebhookDelivery.endpoint)
        .tuples()
    )
    backlog: dict[str, tuple[int, object]] = {
        row[0]: (int(row[1]), row[2]) for row in cast("list[tuple]", list(backlog_rows))
    }
    result = []
    for endpoint in endpoints:
        successes, failures = attempts.get(endpoint.id, (0, 0))
        pending, oldest = backlog.get(endpoint.id, (0, None))
        result.append(
            EndpointHealth(
                endpoint=endpoint,
                success_24h=successes,
                fail_24h=failures,
                pending_count=pending,
                oldest_pending_at=WebhookDelivery.created_at.python_value(oldest),
                circuit_broken_until=broken_until(endpoint, now),
            )
        )
    return result
