"""Managing webhook endpoints and deliveries: what the `/v1/webhook-*` API calls.

Every function takes the caller's organisation and answers `NotFound` for another organisation's
ids. Errors carry stable codes: `invalid_webhook_url`, `invalid_enabled_events`, `not_found`,
`not_resendable`, `endpoint_not_active`.
"""

from __future__ import annotations

from typing import Any

from engine.errors import EngineError
from engine.queue import enqueue_delivery
from engine.store.db import utcnow, write_transaction
from engine.store.models import WebhookDelivery, WebhookEndpoint
from engine.webhooks import http, signing
from engine.webhooks.messages import EVENT_TYPES, OPT_IN_TYPES

ENDPOINT_STATUSES = ("ACTIVE", "DISABLED")
EDITABLE_FIELDS = ("url", "description", "enabled_events", "status", "metadata")


class WebhookAdminError(EngineError):
    """A request about endpoints or deliveries that cannot be honoured; `code` says why."""

    code = "webhook_request_invalid"


def check_enabled_events(events: list[str]) -> list[str]:
    """At least one; each `*`, a known type, or a known family such as `balance.*`.

    >>> check_enabled_events(["balance.*", "event.failed"])
    ['balance.*', 'event.failed']
    """
    if not events:
        raise WebhookAdminError('enabled_events needs at least one event type (or "*")', code="invalid_enabled_events")
    families = {event_type.split(".", 1)[0] + ".*" for event_type in EVENT_TYPES if event_type not in OPT_IN_TYPES}
    unknown = [e for e in events if e != "*" and e not in EVENT_TYPES and e not in families]
    if unknown:
        raise WebhookAdminError(
            f"unknown event types {unknown}; known: {', '.join(EVENT_TYPES)}",
            code="invalid_enabled_events",
            unknown=unknown,
        )
    return list(dict.fromkeys(events))


def create_endpoint(
    organisation_id: str,
    *,
    url: str,
    enabled_events: list[str],
    allow_private: bool,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> WebhookEndpoint:
    """A new ACTIVE endpoint with a fresh `whsec_` secret (returned once, by this call)."""
    url = http.validate_endpoint_url(url, allow_private=allow_private)
    events = check_enabled_events(enabled_events)
    with write_transaction():
        return WebhookEndpoint.create(
            organisation=organisation_id,
            url=url,
            enabled_events=events,
            description=description,
            metadata=metadata or {},
            secret=signing.new_secret(),
        )


def get_endpoint(organisation_id: str, endpoint_id: str) -> WebhookEndpoint:
    """The endpoint (archived ones too, so their deliveries stay readable)."""
    endpoint = WebhookEndpoint.get_or_none(
        (WebhookEndpoint.id == endpoint_id) & (WebhookEndpoint.organisation == organisation_id)
    )
    if endpoint is None:
        raise WebhookAdminError("webhook endpoint not found", code="not_found")
    return endpoint


def update_endpoint(
    organisation_id: str, endpoint_id: str, changes: dict[str, Any], *, allow_private: bool
) -> WebhookEndpoint:
    """Apply the given fields (`enabled_events` and `metadata` replace). Archived: not_found."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise WebhookAdminError(f"fields {sorted(unknown)} cannot be changed", code="bad_request")
    if "url" in changes:
        changes["url"] = http.validate_endpoint_url(changes["url"], allow_private=allow_private)
    if "enabled_events" in changes:
        changes["enabled_events"] = check_enabled_events(changes["enabled_events"])
    if "status" in changes and changes["status"] not in ENDPOINT_STATUSES:
        raise WebhookAdminError(f"status must be one of {ENDPOINT_STATUSES}", code="bad_request")
    with write_transaction():
        endpoint = _live(organisation_id, endpoint_id)
        for name, value in changes.items():
            setattr(endpoint, name, value if name != "metadata" else (value or {}))
        endpoint.save()
        return endpoint


def archive_endpoint(organisation_id: str, endpoint_id: str) -> WebhookEndpoint:
    """Archive: no new deliveries; pending ones end FAILED (`endpoint_not_active`) when due."""
    with write_transaction():
        endpoint = _live(organisation_id, endpoint_id)
        endpoint.status, endpoint.deleted_at = "ARCHIVED", utcnow()
        endpoint.save()
        return endpoint


def rotate_secret(organisation_id: str, endpoint_id: str) -> WebhookEndpoint:
    """A new secret; the old one stops signing at once (no overlap, as in Scrip)."""
    with write_transaction():
        endpoint = _live(organisation_id, endpoint_id)
        endpoint.secret = signing.new_secret()
        endpoint.save()
        return endpoint


def get_delivery(organisation_id: str, delivery_id: str) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.select(WebhookDelivery, WebhookEndpoint)
        .join(WebhookEndpoint)
        .where((WebhookDelivery.id == delivery_id) & (WebhookEndpoint.organisation == organisation_id))
        .first()
    )
    if delivery is None:
        raise WebhookAdminError("webhook delivery not found", code="not_found")
    return delivery


def retry_delivery(organisation_id: str, delivery_id: str) -> WebhookDelivery:
    """FAILED -> PENDING with a fresh budget of attempts, sent at once. Any other status is
    not_found, as in Scrip (only a failed delivery can be retried)."""
    with write_transaction():
        delivery = get_delivery(organisation_id, delivery_id)
        now = utcnow()
        changed = (
            WebhookDelivery.update(
                status="PENDING", attempt_count=0, next_attempt_at=now, updated_at=now, error_code=None, last_error=None
            )
            .where((WebhookDelivery.id == delivery.id) & (WebhookDelivery.status == "FAILED"))
            .execute()
        )
        if changed != 1:
            raise WebhookAdminError(
                f"only FAILED deliveries can be retried; this one is {delivery.status}",
                code="not_found",
                status=delivery.status,
            )
        enqueue_delivery(delivery.id)
        return WebhookDelivery.get_by_id(delivery.id)


def resend_delivery(organisation_id: str, delivery_id: str, *, max_attempts: int = 8) -> WebhookDelivery:
    """A new delivery of the same webhook event to the same endpoint (`resend_seq` + 1), for a
    DELIVERED or FAILED one whose endpoint is ACTIVE."""
    with write_transaction():
        original = get_delivery(organisation_id, delivery_id)
        if original.status not in ("DELIVERED", "FAILED"):
            raise WebhookAdminError(
                f"a {original.status} delivery cannot be resent", code="not_resendable", status=original.status
            )
        if original.endpoint.status != "ACTIVE" or original.endpoint.deleted_at is not None:
            raise WebhookAdminError("the endpoint is not ACTIVE", code="endpoint_not_active")
        latest = (
            WebhookDelivery.select(WebhookDelivery.resend_seq)
            .where(
                (WebhookDelivery.message == original.message_id) & (WebhookDelivery.endpoint == original.endpoint_id)
            )
            .order_by(WebhookDelivery.resend_seq.desc())
            .first()
        )
        now = utcnow()
        copy = WebhookDelivery.create(
            endpoint=original.endpoint_id,
            message=original.message_id,
            event_type=original.event_type,
            status="PENDING",
            max_attempts=max_attempts,
            next_attempt_at=now,
            resend_seq=latest.resend_seq + 1,
            created_at=now,
            updated_at=now,
        )
        enqueue_delivery(copy.id)
        return copy


def _live(organisation_id: str, endpoint_id: str) -> WebhookEndpoint:
    endpoint = get_endpoint(organisation_id, endpoint_id)
    if endpoint.deleted_at is not None:
        raise WebhookAdminError("webhook endpoint not found (archived)", code="not_found")
    return endpoint
