"""`/v1/groups/{id}/balances`: a group's balances per program and asset, and the direct balance
operations on them (adjust, hold, release, forfeit, void-hold) with the participants' bodies. The store's
operations take the owner as a parameter (`owner_type=GROUP`); a group's accounts are kept per
program, so `program_id` names which of them an operation changes. Adjust, hold and release
publish their webhook events (`balance.*`, with `group_id`) in the operation's transaction."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Principal
from api.balance_operations import perform
from api.db import with_connection
from api.errors import responses
from api.pagination import IdFilter, Page, PageInfo
from api.queries.groups import group_balances
from api.schemas.groups import GroupBalanceOut
from api.schemas.participants import Adjust, BalanceOperation, VoidHold
from api.webhook_events import publisher
from engine.store import operations
from engine.store.models import GROUP
from engine.store.operations import AdjustResult, BalanceOpResult


class GroupBalanceController(Controller):
    path = "/v1/groups/{group_id:str}/balances"
    tags = ("groups",)

    @get("/", sync_to_thread=True, summary="A group's balances", responses=responses(404))
    @with_connection
    def balances(
        self,
        group_id: FromPath[str],
        principal: NamedDependency[Principal],
        program_id: IdFilter = None,
        asset_id: Annotated[str | None, QueryParameter(max_length=64, description="Asset id or symbol")] = None,
    ) -> Page[GroupBalanceOut]:
        """One row per program and asset the group has held: `balance` is the total of its buckets."""
        from api.queries.programs import resolve_asset

        wanted = resolve_asset(principal.organisation_id, asset_id).id if asset_id else None
        rows = group_balances(principal.organisation_id, group_id, program_id, wanted)
        return Page(data=rows, pagination=PageInfo(has_more=False))

    @post(
        "/adjust",
        status_code=200,
        sync_to_thread=True,
        summary="Credit or debit a group directly",
        responses=responses(404, 409, 422),
    )
    @with_connection
    def adjust(
        self, group_id: FromPath[str], data: JSONBody[Adjust], principal: NamedDependency[Principal]
    ) -> AdjustResult:
        return perform(operations.adjust_balance, principal, group_id, data, owner_type=GROUP)

    @post(
        "/hold",
        status_code=200,
        sync_to_thread=True,
        summary="Move a group's AVAILABLE to HELD",
        responses=responses(404, 409, 422),
    )
    @with_connection
    def hold(
        self, group_id: FromPath[str], data: JSONBody[BalanceOperation], principal: NamedDependency[Principal]
    ) -> BalanceOpResult:
        return perform(operations.hold, principal, group_id, data, owner_type=GROUP)

    @post(
        "/release",
        status_code=200,
        sync_to_thread=True,
        summary="Move a group's HELD back to AVAILABLE",
        responses=responses(404, 409, 422),
    )
    @with_connection
    def release(
        self, group_id: FromPath[str], data: JSONBody[BalanceOperation], principal: NamedDependency[Principal]
    ) -> BalanceOpResult:
        return perform(operations.release, principal, group_id, data, owner_type=GROUP)

    @post(
        "/forfeit",
        status_code=200,
        sync_to_thread=True,
        summary="Forfeit a group's AVAILABLE value to SYSTEM_BREAKAGE",
        responses=responses(404, 409, 422),
    )
    @with_connection
    def forfeit(
        self, group_id: FromPath[str], data: JSONBody[BalanceOperation], principal: NamedDependency[Principal]
    ) -> BalanceOpResult:
        """`bucket` is required and must be AVAILABLE: held group funds are released first."""
        return perform(operations.forfeit, principal, group_id, data, owner_type=GROUP, publishes=False)

    @post(
        "/void-hold",
        status_code=200,
        sync_to_thread=True,
        summary="Cancel a provisional accrual a group holds under a reference (LOT assets)",
        responses=responses(404, 409, 422),
    )
    @with_connection
    def void_hold(
        self, group_id: FromPath[str], data: JSONBody[VoidHold], principal: NamedDependency[Principal]
    ) -> BalanceOpResult:
        """The participant's void-hold on the group's accounts in `program_id`: amount, bucket and
        lot selection are ignored, the whole provisional accrual of the reference is voided."""
        return operations.void_hold(
            principal.organisation_id,
            group_id,
            owner_type=GROUP,
            program_id=data.program_id,
            asset_id=data.asset_id,
            description=data.description,
            reference_id=data.reference_id,
            idempotency_key=data.idempotency_key,
            api_key_id=principal.api_key_id,
            on_applied=publisher(principal.organisation_id),
        )
