"""`POST /v1/programs/{id}/assets` links an existing asset to a further program (one asset may
serve several, a coalition currency); `DELETE /v1/programs/{id}/assets/{asset}` unlinks it while
the program has not used it. Creating an asset links it to its first program (`/v1/assets`)."""

from __future__ import annotations

from litestar import Controller, delete, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from api.auth import Principal
from api.db import with_connection
from api.errors import responses
from api.queries.asset_links import link_asset, unlink_asset
from api.schemas.programs import AssetLink, AssetOut


class AssetLinkController(Controller):
    path = "/v1/programs/{program_id:str}/assets"
    tags = ("programs",)

    @post("/", sync_to_thread=True, summary="Link an asset to the program", responses=responses(404, 409))
    @with_connection
    def link(
        self, program_id: FromPath[str], data: JSONBody[AssetLink], principal: NamedDependency[Principal]
    ) -> AssetOut:
        """The asset, its `program_ids` now including this program. 409 `already_linked`,
        `asset_archived`, `program_archived`."""
        return link_asset(principal.organisation_id, program_id, data.asset_id)

    @delete(
        "/{asset_id:str}",
        sync_to_thread=True,
        summary="Unlink an asset from the program",
        responses=responses(404, 409),
    )
    @with_connection
    def unlink(self, program_id: FromPath[str], asset_id: FromPath[str], principal: NamedDependency[Principal]) -> None:
        """204. 409 `asset_in_use` while the program's ledger has entries of the asset, a reward of
        the program is priced in it or a rule names it; 409 `asset_not_linked`."""
        unlink_asset(principal.organisation_id, program_id, asset_id)
