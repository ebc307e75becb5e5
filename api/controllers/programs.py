"""`/v1/programs`: create, list, get, patch, fund, burn and the wallet balance. Fund and burn
publish program.funded / program.burned in their transaction (`api.webhook_events`)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Principal
from api.db import with_connection
from api.errors import responses
from api.pagination import LIMIT_DEFAULT, CursorParam, LimitParam, Page, PageInfo, SortDirParam
from api.queries.apply import apply_bundle
from api.queries.programs import (
    create_program,
    get_program_row,
    list_programs,
    patch_program,
    program_out,
    wallet_balances,
)
from api.schemas.apply import ApplyOut, BundleIn
from api.schemas.programs import (
    ProgramCreate,
    ProgramOut,
    ProgramPatch,
    ProgramStatus,
    WalletBalance,
    WalletOperation,
)
from api.webhook_events import publisher
from engine.store.operations import WalletResult, burn_program, fund_program


class ProgramController(Controller):
    path = "/v1/programs"
    tags = ("programs",)

    @post("/", sync_to_thread=True, summary="Create a program", responses=responses(409))
    @with_connection
    def create_program(self, data: JSONBody[ProgramCreate], principal: NamedDependency[Principal]) -> ProgramOut:
        """A new program, ACTIVE."""
        return create_program(principal.organisation_id, data)

    @post(
        "/apply",
        status_code=200,
        sync_to_thread=True,
        summary="Plan or apply a whole bundle in one transaction",
        responses=responses(400, 409, 422),
    )
    @with_connection
    def apply_bundle(
        self,
        data: JSONBody[BundleIn],
        principal: NamedDependency[Principal],
        dry_run: Annotated[bool, QueryParameter()] = False,
    ) -> ApplyOut:
        """Makes the program of `bundle.program.key` match the bundle (what `accrual apply` does):
        the program, its assets (an organisation asset with the same symbol is linked, not
        created), tier types and rules; rules and tiers the bundle lacks are archived. All steps
        commit together or none does. With `dry_run` nothing is written and the plan is returned.
        Each step lists its changed fields with their old and new values. The body is a bundle as
        `accrual schema` describes it (its `tests` are ignored)."""
        return apply_bundle(principal, data.bundle(), dry_run=dry_run)

    @get("/", sync_to_thread=True, summary="List programs")
    @with_connection
    def list_programs(
        self,
        principal: NamedDependency[Principal],
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        status: Annotated[ProgramStatus | None, QueryParameter()] = None,
        include_archived: Annotated[bool, QueryParameter()] = False,
        search: Annotated[str | None, QueryParameter(max_length=255)] = None,
        sort_by: Annotated[Literal["created_at", "name"], QueryParameter()] = "created_at",
        sort_dir: SortDirParam = "desc",
    ) -> Page[ProgramOut]:
        """ARCHIVED programs are hidden unless `status` or `include_archived=true` asks for them."""
        return list_programs(
            principal.organisation_id,
            status=status,
            include_archived=include_archived,
            search=search,
            sort_by=sort_by,
            descending=sort_dir == "desc",
            limit=limit,
            cursor=cursor,
        )

    @get("/{program_id:str}", sync_to_thread=True, summary="Get a program", responses=responses(404))
    @with_connection
    def get_program(self, program_id: FromPath[str], principal: NamedDependency[Principal]) -> ProgramOut:
        return program_out(get_program_row(principal.organisation_id, program_id))

    @patch("/{program_id:str}", sync_to_thread=True, summary="Update a program", responses=responses(404))
    @with_connection
    def patch_program(
        self, program_id: FromPath[str], data: JSONBody[ProgramPatch], principal: NamedDependency[Principal]
    ) -> ProgramOut:
        """Only the given fields change; `status` moves freely between ACTIVE, SUSPENDED and ARCHIVED."""
        return patch_program(principal.organisation_id, program_id, data)

    @post(
        "/{program_id:str}/assets/{asset_id:str}/fund",
        status_code=200,
        sync_to_thread=True,
        summary="Fund the program wallet",
        responses=responses(404, 409, 422),
    )
    @with_connection
    def fund(
        self,
        program_id: FromPath[str],
        asset_id: FromPath[str],
        data: JSONBody[WalletOperation],
        principal: NamedDependency[Principal],
    ) -> WalletResult:
        """PREFUNDED assets only: SYSTEM_ISSUANCE -> program wallet."""
        return fund_program(
            principal.organisation_id,
            program_id,
            asset_id=asset_id,
            amount=data.amount,
            description=data.description,
            api_key_id=principal.api_key_id,
            on_applied=publisher(principal.organisation_id),
        )

    @post(
        "/{program_id:str}/assets/{asset_id:str}/burn",
        status_code=200,
        sync_to_thread=True,
        summary="Burn from the program wallet",
        responses=responses(404, 409, 422),
    )
    @with_connection
    def burn(
        self,
        program_id: FromPath[str],
        asset_id: FromPath[str],
        data: JSONBody[WalletOperation],
        principal: NamedDependency[Principal],
    ) -> WalletResult:
        """Program wallet -> SYSTEM_BREAKAGE; cannot exceed the wallet."""
        return burn_program(
            principal.organisation_id,
            program_id,
            asset_id=asset_id,
            amount=data.amount,
            description=data.description,
            api_key_id=principal.api_key_id,
            on_applied=publisher(principal.organisation_id),
        )

    @get("/{program_id:str}/balance", sync_to_thread=True, summary="Program wallet balances", responses=responses(404))
    @with_connection
    def balance(
        self,
        program_id: FromPath[str],
        principal: NamedDependency[Principal],
        asset_id: Annotated[str | None, QueryParameter()] = None,
    ) -> Page[WalletBalance]:
        """Balances of the PREFUNDED assets linked to the program."""
        data = wallet_balances(principal.organisation_id, program_id, asset_id)
        return Page(data=data, pagination=PageInfo(has_more=False))
