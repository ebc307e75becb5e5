"""Redemptions and reversals: `POST /v1/participants/{id}/redemptions` (raw),
`POST .../redemptions/items` (catalog), `GET .../redemptions`, `GET /v1/redemptions/{id}`,
`POST /v1/redemptions/{id}/reverse` and `GET /v1/redemptions/{id}/reversals`. A new redemption or
reversal answers 201, its idempotent replay 200."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Principal
from api.db import with_connection
from api.errors import responses
from api.pagination import LIMIT_DEFAULT, CursorParam, IdFilter, LimitParam, Page
from api.queries import spending
from api.queries.events import check_range
from api.schemas.common import TIMESTAMP_HELP, parse_timestamp
from api.schemas.spending import ItemRedemption, RawRedemption, ReversalRequest
from api.spending_events import spending_publisher
from engine.store import redemptions
from engine.store.spending_results import Redemption, Reversal

RedemptionStatus = Literal["COMPLETED", "PARTIALLY_REVERSED", "FULLY_REVERSED"]


def _created_or_replayed(kind: type, statuses: tuple[int, ...]) -> dict:
    replay = ResponseSpec(data_container=kind, generate_examples=False, description="Idempotent replay")
    return {**responses(*statuses), 200: replay}


class RedemptionController(Controller):
    path = "/v1"
    tags = ("redemptions",)

    @post(
        "/participants/{participant_id:str}/redemptions",
        status_code=201,
        sync_to_thread=True,
        summary="Redeem an amount (raw redemption)",
        responses=_created_or_replayed(Redemption, (404, 409, 422)),
    )
    @with_connection
    def redeem(
        self, participant_id: FromPath[str], data: JSONBody[RawRedemption], principal: NamedDependency[Principal]
    ) -> Response[Redemption]:
        """`amount` moves from the participant's AVAILABLE balance to the program's redemption target
        (422 `insufficient_funds`); participant and program ACTIVE, asset linked."""
        result, replayed = redemptions.redeem(
            principal.organisation_id,
            participant_id,
            program_id=data.program_id,
            asset_id=data.asset_id,
            amount=data.amount,
            description=data.description,
            idempotency_key=data.idempotency_key,
            api_key_id=principal.api_key_id,
            on_applied=spending_publisher(principal.organisation_id),
        )
        return Response(result, status_code=200 if replayed else 201)

    @post(
        "/participants/{participant_id:str}/redemptions/items",
        status_code=201,
        sync_to_thread=True,
        summary="Redeem a catalog reward",
        responses=_created_or_replayed(Redemption, (404, 409, 422)),
    )
    @with_connection
    def redeem_item(
        self, participant_id: FromPath[str], data: JSONBody[ItemRedemption], principal: NamedDependency[Principal]
    ) -> Response[Redemption]:
        """Costs `quantity` (default 1) x `unit_cost` of a UNIT_BASED reward, or `amount` (at least
        `unit_cost`) of an AMOUNT_BASED one. 409 `reward_not_active`, `reward_not_available`
        (outside its window), `out_of_stock`, `redemption_limit_exceeded` (max_per_participant)."""
        result, replayed = redemptions.redeem_item(
            principal.organisation_id,
            participant_id,
            program_id=data.program_id,
            reward_id=data.reward_id,
            quantity=data.quantity,
            amount=data.amount,
            description=data.description,
            idempotency_key=data.idempotency_key,
            api_key_id=principal.api_key_id,
            on_applied=spending_publisher(principal.organisation_id),
        )
        return Response(result, status_code=200 if replayed else 201)

    @get(
        "/participants/{participant_id:str}/redemptions",
        sync_to_thread=True,
        summary="A participant's redemptions",
        responses=responses(404),
    )
    @with_connection
    def list_redemptions(
        self,
        participant_id: FromPath[str],
        principal: NamedDependency[Principal],
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        program_id: IdFilter = None,
        reward_catalog_item_id: IdFilter = None,
        status: Annotated[RedemptionStatus | None, QueryParameter()] = None,
        from_: Annotated[str | None, QueryParameter(name="from", description=TIMESTAMP_HELP)] = None,
        to: Annotated[str | None, QueryParameter(description=TIMESTAMP_HELP)] = None,
    ) -> Page[Redemption]:
        """Newest first; `reward_catalog_item_id` is a reward's id, `from`/`to` bound `created_at`."""
        created = parse_timestamp("from", from_), parse_timestamp("to", to)
        check_range("from", *created)
        return spending.list_redemptions(
            principal.organisation_id,
            participant_id,
            program_id=program_id,
            reward_id=reward_catalog_item_id,
            status=status,
            created=created,
            limit=limit,
            cursor=cursor,
        )

    @get("/redemptions/{redemption_id:str}", sync_to_thread=True, summary="Get a redemption", responses=responses(404))
    @with_connection
    def get_redemption(self, redemption_id: FromPath[str], principal: NamedDependency[Principal]) -> Redemption:
        return spending.get_redemption(principal.organisation_id, redemption_id)

    @post(
        "/redemptions/{redemption_id:str}/reverse",
        status_code=201,
        sync_to_thread=True,
        summary="Reverse a redemption, partly or fully",
        responses=_created_or_replayed(Reversal, (404, 409, 422)),
    )
    @with_connection
    def reverse(
        self, redemption_id: FromPath[str], data: JSONBody[ReversalRequest], principal: NamedDependency[Principal]
    ) -> Response[Reversal]:
        """`quantity` (UNIT_BASED) or `amount` (raw, AMOUNT_BASED) goes back from the redemption's
        target to the participant; neither reverses the rest. Reversals add up to at most the
        redemption (409 `reversal_exceeds_redemption`, `redemption_fully_reversed`). On LOT assets
        the lots the redemption took are restored, last taken first."""
        result, replayed = redemptions.reverse(
            principal.organisation_id,
            redemption_id,
            reason=data.reason,
            amount=data.amount,
            quantity=data.quantity,
            idempotency_key=data.idempotency_key,
            api_key_id=principal.api_key_id,
            on_applied=spending_publisher(principal.organisation_id),
        )
        return Response(result, status_code=200 if replayed else 201)

    @get(
        "/redemptions/{redemption_id:str}/reversals",
        sync_to_thread=True,
        summary="A redemption's reversals",
        responses=responses(404),
    )
    @with_connection
    def list_reversals(
        self,
        redemption_id: FromPath[str],
        principal: NamedDependency[Principal],
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
    ) -> Page[Reversal]:
        """In the order they were made."""
        return spending.list_reversals(principal.organisation_id, redemption_id, limit=limit, cursor=cursor)
