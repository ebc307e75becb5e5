"""`/v1/programs/{program_id}/tiers`: create, list, get, patch (levels upserted by key), archive,
and preview who changed tier rules would move.
Participants' levels are under `/v1/participants/{id}/state/tiers`."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Principal
from api.db import with_connection
from api.errors import responses
from api.pagination import LIMIT_DEFAULT, CursorParam, LimitParam, Page
from api.queries import tiers
from api.schemas.tiers import TierCreate, TierPatch, TierPreviewOut, TierPreviewRequest, TierStatus, TierTypeOut


class TierController(Controller):
    path = "/v1/programs/{program_id:str}/tiers"
    tags = ("tiers",)

    @post("/", sync_to_thread=True, summary="Create a tier type", responses=responses(404, 409))
    @with_connection
    def create_tier(
        self, program_id: FromPath[str], data: JSONBody[TierCreate], principal: NamedDependency[Principal]
    ) -> TierTypeOut:
        """`key` is unique in the program; level keys and ranks are unique in the tier (409)."""
        return tiers.create_tier(principal.organisation_id, program_id, data)

    @post(
        "/preview",
        sync_to_thread=True,
        status_code=200,
        summary="Preview who tier types would move",
        responses=responses(404, 409),
    )
    @with_connection
    def preview_tiers(
        self, program_id: FromPath[str], data: JSONBody[TierPreviewRequest], principal: NamedDependency[Principal]
    ) -> TierPreviewOut:
        """The program's members the given tier types (as they would be written) would move up or
        down against their counters now; nothing is written."""
        return tiers.preview_tiers(principal.organisation_id, program_id, data)

    @get("/", sync_to_thread=True, summary="List a program's tier types", responses=responses(404))
    @with_connection
    def list_tiers(
        self,
        program_id: FromPath[str],
        principal: NamedDependency[Principal],
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        status: Annotated[TierStatus | None, QueryParameter()] = None,
    ) -> Page[TierTypeOut]:
        """Ordered by key, archived tiers included unless `status` says otherwise."""
        return tiers.list_tiers(principal.organisation_id, program_id, status=status, limit=limit, cursor=cursor)

    @get("/{key:str}", sync_to_thread=True, summary="Get a tier type", responses=responses(404))
    @with_connection
    def get_tier(
        self, program_id: FromPath[str], key: FromPath[str], principal: NamedDependency[Principal]
    ) -> TierTypeOut:
        return tiers.get_tier(principal.organisation_id, program_id, key)

    @patch("/{key:str}", sync_to_thread=True, summary="Update a tier type", responses=responses(404, 409))
    @with_connection
    def patch_tier(
        self,
        program_id: FromPath[str],
        key: FromPath[str],
        data: JSONBody[TierPatch],
        principal: NamedDependency[Principal],
    ) -> TierTypeOut:
        """`display_name`, `lifecycle` (`{}` clears) and `levels` (upserted by key; a new key needs
        `rank`). 409 `tier_level_conflict` for a repeated level rank, 409 `tier_archived` once archived."""
        return tiers.patch_tier(principal.organisation_id, program_id, key, data)

    @post(
        "/{key:str}/archive",
        status_code=200,
        sync_to_thread=True,
        summary="Archive a tier type (one way)",
        responses=responses(404, 409),
    )
    @with_connection
    def archive_tier(
        self, program_id: FromPath[str], key: FromPath[str], principal: NamedDependency[Principal]
    ) -> TierTypeOut:
        """SET_TIER actions on an archived tier are skipped (the event still completes) and it no
        longer auto-qualifies; participants keep their levels. 409 `tier_archived` when archived."""
        return tiers.archive_tier(principal.organisation_id, program_id, key)
