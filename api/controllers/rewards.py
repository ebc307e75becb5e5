"""`/v1/programs/{program_id}/rewards`: the program's rewards catalog (create, list, get, patch).
Redeeming a reward is `POST /v1/participants/{id}/redemptions/items` (`api.controllers.redemptions`)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Principal
from api.db import with_connection
from api.errors import responses
from api.pagination import LIMIT_DEFAULT, CursorParam, LimitParam, Page, SortDirParam
from api.queries import spending
from api.schemas.spending import RewardCreate, RewardOut, RewardPatch, RewardStatus


class RewardController(Controller):
    path = "/v1/programs/{program_id:str}/rewards"
    tags = ("rewards",)

    @post("/", sync_to_thread=True, summary="Create a reward", responses=responses(404, 409))
    @with_connection
    def create_reward(
        self, program_id: FromPath[str], data: JSONBody[RewardCreate], principal: NamedDependency[Principal]
    ) -> RewardOut:
        """`asset_id` (an id or a symbol) must be linked to the program; `name` is unique in it (409
        `already_exists`). `max_total` and `max_per_participant` are for UNIT_BASED rewards; an
        AMOUNT_BASED reward's `unit_cost` is its minimum redemption amount. A reward created ACTIVE
        with `max_total: 0` is OUT_OF_STOCK."""
        return spending.create_reward(principal.organisation_id, program_id, data)

    @get("/", sync_to_thread=True, summary="List a program's rewards", responses=responses(404))
    @with_connection
    def list_rewards(
        self,
        program_id: FromPath[str],
        principal: NamedDependency[Principal],
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        status: Annotated[RewardStatus | None, QueryParameter()] = None,
        include_archived: Annotated[bool, QueryParameter()] = False,
        search: Annotated[str | None, QueryParameter(max_length=255)] = None,
        sort_by: Annotated[Literal["created_at", "name"], QueryParameter()] = "created_at",
        sort_dir: SortDirParam = "desc",
    ) -> Page[RewardOut]:
        """ARCHIVED rewards are hidden unless `status` or `include_archived=true` asks for them."""
        return spending.list_rewards(
            principal.organisation_id,
            program_id,
            status=status,
            include_archived=include_archived,
            search=search,
            sort_by=sort_by,
            descending=sort_dir == "desc",
            limit=limit,
            cursor=cursor,
        )

    @get("/{reward_id:str}", sync_to_thread=True, summary="Get a reward", responses=responses(404))
    @with_connection
    def get_reward(
        self, program_id: FromPath[str], reward_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> RewardOut:
        return spending.get_reward(principal.organisation_id, program_id, reward_id)

    @patch("/{reward_id:str}", sync_to_thread=True, summary="Update a reward", responses=responses(404, 409))
    @with_connection
    def patch_reward(
        self,
        program_id: FromPath[str],
        reward_id: FromPath[str],
        data: JSONBody[RewardPatch],
        principal: NamedDependency[Principal],
    ) -> RewardOut:
        """`redemption_type` and `asset_id` cannot change (400 naming the field). `status` sets DRAFT,
        ACTIVE or ARCHIVED; an ACTIVE reward is OUT_OF_STOCK while its redeemed units reach
        `max_total`, and ACTIVE again when a reversal or a larger `max_total` frees a unit."""
        return spending.patch_reward(principal.organisation_id, program_id, reward_id, data)
