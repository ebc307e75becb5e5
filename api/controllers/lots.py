"""Lots of LOT assets (D34): `GET /v1/participants/{id}/balances/lots`,
`POST /v1/participants/{id}/balances/void-hold` and `GET /v1/programs/{id}/expiry-schedule`."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Principal
from api.db import with_connection
from api.errors import responses
from api.pagination import CursorParam, IdFilter, LimitParam, Page
from api.queries.lots import expiry_schedule, list_lots
from api.schemas.common import TIMESTAMP_HELP, parse_timestamp
from api.schemas.lots import ExpirySchedule, LotOut
from api.schemas.participants import VoidHold
from api.webhook_events import publisher
from engine.store import operations
from engine.store.operations import BalanceOpResult

LotStatusParam = Annotated[Literal["DEFERRED", "AVAILABLE", "HELD", "CONSUMED", "EXPIRED"] | None, QueryParameter()]
Stamp = Annotated[str | None, QueryParameter(description=TIMESTAMP_HELP)]


class LotController(Controller):
    path = "/v1"
    tags = ("lots",)

    @get(
        "/participants/{participant_id:str}/balances/lots",
        sync_to_thread=True,
        summary="A participant's lots of a LOT asset",
        responses=responses(404),
    )
    @with_connection
    def lots(
        self,
        participant_id: FromPath[str],
        principal: NamedDependency[Principal],
        asset_id: Annotated[str, QueryParameter(min_length=1, max_length=36)],
        limit: LimitParam = 50,
        cursor: CursorParam = None,
        program_id: IdFilter = None,
        status: LotStatusParam = None,
        expires_before: Stamp = None,
        expires_after: Stamp = None,
        reference_id: Annotated[str | None, QueryParameter(max_length=255)] = None,
    ) -> Page[LotOut]:
        return list_lots(
            principal.organisation_id,
            participant_id,
            asset_id=asset_id,
            program_id=program_id,
            status=status,
            expires_before=parse_timestamp("expires_before", expires_before),
            expires_after=parse_timestamp("expires_after", expires_after),
            reference_id=reference_id,
            limit=limit,
            cursor=cursor,
        )

    @post(
        "/participants/{participant_id:str}/balances/void-hold",
        status_code=200,
        sync_to_thread=True,
        summary="Cancel a provisional accrual held under a reference (LOT assets; allowed on CLOSED)",
        responses=responses(404, 409, 422),
    )
    @with_connection
    def void_hold(
        self, participant_id: FromPath[str], data: JSONBody[VoidHold], principal: NamedDependency[Principal]
    ) -> BalanceOpResult:
        return operations.void_hold(
            principal.organisation_id,
            participant_id,
            program_id=data.program_id,
            asset_id=data.asset_id,
            description=data.description,
            reference_id=data.reference_id,
            idempotency_key=data.idempotency_key,
            api_key_id=principal.api_key_id,
            on_applied=publisher(principal.organisation_id),
        )

    @get(
        "/programs/{program_id:str}/expiry-schedule",
        sync_to_thread=True,
        summary="Value due to expire in each of the next twelve months",
        responses=responses(404),
    )
    @with_connection
    def expiry_schedule(
        self,
        program_id: FromPath[str],
        principal: NamedDependency[Principal],
        asset_id: Annotated[str, QueryParameter(min_length=1, max_length=36)],
    ) -> ExpirySchedule:
        return expiry_schedule(principal.organisation_id, program_id, asset_id)
