"""`/v1/webhook-endpoints` and `/v1/webhook-deliveries` (D27).

Endpoints: create (the answer carries the `whsec_` secret, once), list, get, patch, archive
(DELETE), rotate-secret (a new secret, once), the endpoint's deliveries, and the delivery stats of
all endpoints (`engine.webhooks.health`). Deliveries: get (with
the last response body and error), retry (a FAILED one, fresh attempts, sent at once) and resend
(a new delivery of the same webhook event). URLs must be https and public unless the server runs
with `ACCRUAL_WEBHOOKS_ALLOW_PRIVATE=1`. The work is done by `engine.webhooks.endpoints`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import UNSET, UnsetType

from api.auth import Principal
from api.db import with_connection
from api.errors import ApiError, Conflict, NotFound, field_error, responses
from api.pagination import CursorParam, Page, paginate
from api.schemas.common import Description, Request, Response
from engine.errors import EngineError
from engine.queue import current_queue
from engine.settings import WorkerSettings
from engine.store.db import utcnow
from engine.store.models import WebhookDelivery, WebhookEndpoint
from engine.webhooks import endpoints
from engine.webhooks.health import EndpointHealth, delivery_stats
from engine.webhooks.http import WebhookUrlError

# The webhook lists take 1-100 items a page, 20 by default (as Scrip's do).
WebhookLimitParam = Annotated[int, QueryParameter(ge=1, le=100, description="Page size (1-100)")]
EndpointStatus = Literal["ACTIVE", "DISABLED"]
DeliveryStatus = Literal["PENDING", "SENDING", "DELIVERED", "FAILED"]
Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]
EventTypes = Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(min_length=1, max_length=20)]


class EndpointCreate(Request):
    url: Url
    enabled_events: EventTypes
    description: Description | None = None
    metadata: dict[str, Any] | None = None


class EndpointPatch(Request):
    url: Url | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    enabled_events: EventTypes | UnsetType = UNSET
    status: EndpointStatus | UnsetType = UNSET
    metadata: dict[str, Any] | UnsetType | None = UNSET


class EndpointOut(Response):
    id: str
    url: str
    description: str | None
    enabled_events: list[str]
    metadata: dict[str, Any]
    status: str
    created_at: datetime
    updated_at: datetime


class EndpointWithSecret(EndpointOut):
    """Only the create and rotate-secret answers carry the secret."""

    secret: str


class DeliveryOut(Response):
    id: str
    webhook_endpoint_id: str
    webhook_event_id: str
    event_type: str
    status: str
    attempt_count: int
    max_attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_response_status: int | None
    error_code: str | None
    resend_seq: int
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime


class DeliveryDetail(DeliveryOut):
    last_response_body: str | None
    last_error: str | None


def endpoint_out(row: WebhookEndpoint) -> EndpointOut:
    return EndpointOut(
        id=row.id,
        url=row.url,
        description=row.description,
        enabled_events=row.enabled_events,
        metadata=row.metadata or {},
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def with_secret(row: WebhookEndpoint) -> EndpointWithSecret:
    return EndpointWithSecret(**msgspec.structs.asdict(endpoint_out(row)), secret=row.secret)


def delivery_out(row: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(**_delivery_fields(row))


def delivery_detail(row: WebhookDelivery) -> DeliveryDetail:
    return DeliveryDetail(**_delivery_fields(row), last_response_body=row.last_response_body, last_error=row.last_error)


def _delivery_fields(row: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": row.id,
        "webhook_endpoint_id": row.endpoint_id,
        "webhook_event_id": row.message_id,
        "event_type": row.event_type,
        "status": row.status,
        "attempt_count": row.attempt_count,
        "max_attempts": row.max_attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_attempt_at": row.last_attempt_at,
        "last_response_status": row.last_response_status,
        "error_code": row.error_code,
        "resend_seq": row.resend_seq,
        "delivered_at": row.delivered_at,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _settings() -> WorkerSettings:
    try:
        return current_queue().settings
    except EngineError:  # no queue configured in this process: read the environment
        return WorkerSettings.from_env()


def _translated(call, *args: Any, **kwargs: Any) -> Any:
    """Run an endpoints operation; its coded errors become the API's 400/404/409 answers."""
    try:
        return call(*args, **kwargs)
    except WebhookUrlError as exc:
        raise field_error("url", exc.message) from exc
    except endpoints.WebhookAdminError as exc:
        if exc.code == "invalid_enabled_events":
            raise field_error("enabled_events", exc.message) from exc
        if exc.code == "not_found":
            raise NotFound(exc.message) from exc
        if exc.code in ("not_resendable", "endpoint_not_active"):
            raise Conflict(exc.message, code=exc.code) from exc
        raise ApiError(exc.message, code=exc.code) from exc


class DeliveryStatsRow(Response):
    endpoint_id: str
    url: str
    status: str
    success_24h: int
    fail_24h: int
    success_rate: float | None  # null without attempts in the last 24 hours
    degraded: bool
    pending_count: int
    oldest_pending_at: datetime | None
    last_attempt_at: datetime | None
    circuit_broken_until: datetime | None
    rate_limited_until: datetime | None  # deliveries are not rate limited: always null
    blocked_reason: str | None  # circuit_broken, endpoint_disabled
    blocked_until: datetime | None


class DeliveryStats(Response):
    data: list[DeliveryStatsRow]


def stats_row(health: EndpointHealth) -> DeliveryStatsRow:
    endpoint, broken = health.endpoint, health.circuit_broken_until
    reason = "circuit_broken" if broken is not None else None
    if endpoint.status != "ACTIVE":
        reason = "endpoint_disabled"
    return DeliveryStatsRow(
        endpoint_id=endpoint.id,
        url=endpoint.url,
        status=endpoint.status,
        success_24h=health.success_24h,
        fail_24h=health.fail_24h,
        success_rate=None if health.success_rate is None else round(health.success_rate, 4),
        degraded=health.degraded,
        pending_count=health.pending_count,
        oldest_pending_at=health.oldest_pending_at,
        last_attempt_at=endpoint.last_attempt_at,
        circuit_broken_until=broken,
        rate_limited_until=None,
        blocked_reason=reason,
        blocked_until=broken if reason == "circuit_broken" else None,
    )


class WebhookEndpointController(Controller):
    path = "/v1/webhook-endpoints"
    tags = ("webhooks",)

    @post("/", status_code=201, sync_to_thread=True, summary="Create a webhook endpoint")
    @with_connection
    def create_endpoint(
        self, data: JSONBody[EndpointCreate], principal: NamedDependency[Principal]
    ) -> EndpointWithSecret:
        """The answer carries the endpoint's `whsec_` secret; it is not shown again."""
        row = _translated(
            endpoints.create_endpoint,
            principal.organisation_id,
            url=data.url,
            enabled_events=data.enabled_events,
            description=data.description,
            metadata=data.metadata,
            allow_private=_settings().webhooks_allow_private,
        )
        return with_secret(row)

    @get("/", sync_to_thread=True, summary="List webhook endpoints")
    @with_connection
    def list_endpoints(
        self,
        principal: NamedDependency[Principal],
        limit: WebhookLimitParam = 20,
        cursor: CursorParam = None,
        status: Annotated[EndpointStatus | None, QueryParameter()] = None,
    ) -> Page[EndpointOut]:
        """Newest first; archived endpoints are not listed."""
        query = WebhookEndpoint.select().where(
            (WebhookEndpoint.organisation == principal.organisation_id) & WebhookEndpoint.deleted_at.is_null()
        )
        if status is not None:
            query = query.where(WebhookEndpoint.status == status)
        return paginate(
            query,
            keys=[WebhookEndpoint.id],
            descending=True,
            limit=limit,
            cursor=cursor,
            listing="webhook-endpoints",
            render=endpoint_out,
        )

    @get("/delivery-stats", sync_to_thread=True, summary="Delivery health per endpoint")
    @with_connection
    def delivery_stats(self, principal: NamedDependency[Principal]) -> DeliveryStats:
        """Per endpoint not archived: attempts of the last 24 hours by outcome, the backlog, and
        the circuit breaker (an endpoint that keeps failing is paused for a growing interval)."""
        return DeliveryStats(data=[stats_row(h) for h in delivery_stats(principal.organisation_id, utcnow())])

    @get("/{endpoint_id:str}", sync_to_thread=True, summary="Get a webhook endpoint", responses=responses(404))
    @with_connection
    def get_endpoint(self, endpoint_id: FromPath[str], principal: NamedDependency[Principal]) -> EndpointOut:
        return endpoint_out(_translated(endpoints.get_endpoint, principal.organisation_id, endpoint_id))

    @patch("/{endpoint_id:str}", sync_to_thread=True, summary="Update a webhook endpoint", responses=responses(404))
    @with_connection
    def patch_endpoint(
        self, endpoint_id: FromPath[str], data: JSONBody[EndpointPatch], principal: NamedDependency[Principal]
    ) -> EndpointOut:
        """`enabled_events` and `metadata` replace the stored values; `status` is ACTIVE or DISABLED."""
        changes = {name: value for name, value in msgspec.structs.asdict(data).items() if value is not UNSET}
        row = _translated(
            endpoints.update_endpoint,
            principal.organisation_id,
            endpoint_id,
            changes,
            allow_private=_settings().webhooks_allow_private,
        )
        return endpoint_out(row)

    @delete(
        "/{endpoint_id:str}",
        status_code=200,
        sync_to_thread=True,
        summary="Archive a webhook endpoint",
        responses=responses(404),
    )
    @with_connection
    def archive_endpoint(self, endpoint_id: FromPath[str], principal: NamedDependency[Principal]) -> EndpointOut:
        return endpoint_out(_translated(endpoints.archive_endpoint, principal.organisation_id, endpoint_id))

    @post(
        "/{endpoint_id:str}/rotate-secret",
        status_code=200,
        sync_to_thread=True,
        summary="Rotate the secret",
        responses=responses(404),
    )
    @with_connection
    def rotate_secret(self, endpoint_id: FromPath[str], principal: NamedDependency[Principal]) -> EndpointWithSecret:
        """A new secret signs every later attempt; the old one is invalid at once."""
        return with_secret(_translated(endpoints.rotate_secret, principal.organisation_id, endpoint_id))

    @get(
        "/{endpoint_id:str}/deliveries",
        sync_to_thread=True,
        summary="List an endpoint's deliveries",
        responses=responses(404),
    )
    @with_connection
    def list_deliveries(
        self,
        endpoint_id: FromPath[str],
        principal: NamedDependency[Principal],
        limit: WebhookLimitParam = 20,
        cursor: CursorParam = None,
        status: Annotated[DeliveryStatus | None, QueryParameter()] = None,
    ) -> Page[DeliveryOut]:
        """Newest first."""
        endpoint = _translated(endpoints.get_endpoint, principal.organisation_id, endpoint_id)
        query = WebhookDelivery.select().where(WebhookDelivery.endpoint == endpoint.id)
        if status is not None:
            query = query.where(WebhookDelivery.status == status)
        return paginate(
            query,
            keys=[WebhookDelivery.id],
            descending=True,
            limit=limit,
            cursor=cursor,
            listing="webhook-deliveries",
            render=delivery_out,
        )


class WebhookDeliveryController(Controller):
    path = "/v1/webhook-deliveries"
    tags = ("webhooks",)

    @get("/{delivery_id:str}", sync_to_thread=True, summary="Get a delivery", responses=responses(404))
    @with_connection
    def get_delivery(self, delivery_id: FromPath[str], principal: NamedDependency[Principal]) -> DeliveryDetail:
        return delivery_detail(_translated(endpoints.get_delivery, principal.organisation_id, delivery_id))

    @post(
        "/{delivery_id:str}/retry",
        status_code=200,
        sync_to_thread=True,
        summary="Retry a FAILED delivery",
        responses=responses(404),
    )
    @with_connection
    def retry_delivery(self, delivery_id: FromPath[str], principal: NamedDependency[Principal]) -> DeliveryDetail:
        """FAILED -> PENDING with a fresh budget of attempts, sent at once; other statuses: 404."""
        return delivery_detail(_translated(endpoints.retry_delivery, principal.organisation_id, delivery_id))

    @post(
        "/{delivery_id:str}/resend",
        status_code=201,
        sync_to_thread=True,
        summary="Resend a delivery",
        responses=responses(404, 409),
    )
    @with_connection
    def resend_delivery(self, delivery_id: FromPath[str], principal: NamedDependency[Principal]) -> DeliveryDetail:
        """A new delivery (new id, `resend_seq` + 1) of the same webhook event to the same endpoint;
        only for DELIVERED or FAILED ones (409 `not_resendable`) of an ACTIVE endpoint (409
        `endpoint_not_active`)."""
        row = _translated(
            endpoints.resend_delivery,
            principal.organisation_id,
            delivery_id,
            max_attempts=_settings().webhook_max_attempts,
        )
        return delivery_detail(row)


WEBHOOK_CONTROLLERS = [WebhookEndpointController, WebhookDeliveryController]
