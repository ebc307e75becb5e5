"""`/v1/assets`: create (linked to a program), list, get (by id or symbol), patch."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Principal
from api.db import with_connection
from api.errors import responses
from api.pagination import LIMIT_DEFAULT, CursorParam, IdFilter, LimitParam, Page
from api.queries.programs import create_asset, get_asset, list_assets, patch_asset
from api.schemas.programs import AssetCreate, AssetOut, AssetPatch


class AssetController(Controller):
    path = "/v1/assets"
    tags = ("assets",)

    @post("/", sync_to_thread=True, summary="Create an asset", responses=responses(404, 409))
    @with_connection
    def create_asset(self, data: JSONBody[AssetCreate], principal: NamedDependency[Principal]) -> AssetOut:
        """The asset is linked to `program_id`; `symbol` is unique in the organisation."""
        return create_asset(principal.organisation_id, data)

    @get("/", sync_to_thread=True, summary="List assets")
    @with_connection
    def list_assets(
        self,
        principal: NamedDependency[Principal],
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        program_id: IdFilter = None,
        status: Annotated[Literal["ACTIVE", "ARCHIVED"] | None, QueryParameter()] = None,
        search: Annotated[str | None, QueryParameter(max_length=255)] = None,
    ) -> Page[AssetOut]:
        return list_assets(
            principal.organisation_id, program_id=program_id, status=status, search=search, limit=limit, cursor=cursor
        )

    @get("/{asset_id:str}", sync_to_thread=True, summary="Get an asset (by id or symbol)", responses=responses(404))
    @with_connection
    def get_asset(self, asset_id: FromPath[str], principal: NamedDependency[Principal]) -> AssetOut:
        return get_asset(principal.organisation_id, asset_id)

    @patch("/{asset_id:str}", sync_to_thread=True, summary="Update an asset", responses=responses(404, 409))
    @with_connection
    def patch_asset(
        self, asset_id: FromPath[str], data: JSONBody[AssetPatch], principal: NamedDependency[Principal]
    ) -> AssetOut:
        """`max_transaction_amount`: a string sets, null clears; `status` may only become ARCHIVED."""
        return patch_asset(principal.organisation_id, asset_id, data)
