"""`/v1/groups/{id}/state/...` and `/v1/groups/{id}/activity/state-history`: a group's tags,
counters, attributes and tier levels, as a participant's are (`api.queries.state` and
`api.queries.tier_state` with `owner_type=GROUP`), each change in state history with the API key.
An archived group's state is read, not changed (409 `group_archived`)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, delete, get, patch, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Principal
from api.db import with_connection
from api.errors import responses
from api.pagination import LIMIT_DEFAULT, CursorParam, IdFilter, Page, PageInfo
from api.queries import state, tier_state
from api.queries.events import check_range
from api.queries.participants import state_history
from api.schemas.common import TIMESTAMP_HELP, parse_timestamp
from api.schemas.participants import (
    AttributeOut,
    AttributeSet,
    AttributesMerge,
    AttributesOut,
    CounterOut,
    CounterSet,
    StateHistoryOut,
    TagOut,
    TagsOut,
    TagsReplace,
    TierSet,
    TierStateOut,
)
from engine.store.models import GROUP

READ, WRITE = responses(404), responses(404, 409)
Stamp = Annotated[str | None, QueryParameter(description=TIMESTAMP_HELP)]
ProgramParam = Annotated[str, QueryParameter(description="The program whose tiers are meant (required)")]


def _page(items: list) -> Page:
    return Page(data=items, pagination=PageInfo(has_more=False))


class GroupStateController(Controller):
    path = "/v1/groups/{group_id:str}"
    tags = ("groups",)

    @get("/state/tags", sync_to_thread=True, summary="A group's tags", responses=READ)
    @with_connection
    def list_tags(self, group_id: FromPath[str], principal: NamedDependency[Principal]) -> Page[TagOut]:
        return _page([TagOut(tag=t) for t in state.list_tags(principal, group_id, GROUP)])

    @put("/state/tags/{tag:str}", sync_to_thread=True, summary="Add a group tag (idempotent)", responses=WRITE)
    @with_connection
    def add_tag(self, group_id: FromPath[str], tag: FromPath[str], principal: NamedDependency[Principal]) -> TagOut:
        return TagOut(tag=state.add_tag(principal, group_id, tag, GROUP))

    @put("/state/tags", sync_to_thread=True, summary="Replace all of a group's tags", responses=WRITE)
    @with_connection
    def set_tags(
        self, group_id: FromPath[str], data: JSONBody[TagsReplace], principal: NamedDependency[Principal]
    ) -> TagsOut:
        return TagsOut(tags=state.set_tags(principal, group_id, data.tags, GROUP))

    @delete("/state/tags/{tag:str}", sync_to_thread=True, summary="Remove a group tag", responses=WRITE)
    @with_connection
    def remove_tag(self, group_id: FromPath[str], tag: FromPath[str], principal: NamedDependency[Principal]) -> None:
        state.remove_tag(principal, group_id, tag, GROUP)

    @get("/state/counters", sync_to_thread=True, summary="A group's counters", responses=READ)
    @with_connection
    def list_counters(self, group_id: FromPath[str], principal: NamedDependency[Principal]) -> Page[CounterOut]:
        return _page(state.list_counters(principal, group_id, GROUP))

    @get("/state/counters/{key:str}", sync_to_thread=True, summary="One group counter", responses=READ)
    @with_connection
    def get_counter(
        self, group_id: FromPath[str], key: FromPath[str], principal: NamedDependency[Principal]
    ) -> CounterOut:
        return state.get_counter(principal, group_id, key, GROUP)

    @put("/state/counters/{key:str}", sync_to_thread=True, summary="Set a group counter", responses=WRITE)
    @with_connection
    def set_counter(
        self,
        group_id: FromPath[str],
        key: FromPath[str],
        data: JSONBody[CounterSet],
        principal: NamedDependency[Principal],
    ) -> CounterOut:
        return state.set_counter(principal, group_id, key, data, GROUP)

    @delete("/state/counters/{key:str}", sync_to_thread=True, summary="Delete a group counter", responses=WRITE)
    @with_connection
    def delete_counter(
        self, group_id: FromPath[str], key: FromPath[str], principal: NamedDependency[Principal]
    ) -> None:
        state.delete_counter(principal, group_id, key, GROUP)

    @get("/state/attributes", sync_to_thread=True, summary="A group's attributes", responses=READ)
    @with_connection
    def list_attributes(self, group_id: FromPath[str], principal: NamedDependency[Principal]) -> Page[AttributeOut]:
        return _page(state.list_attributes(principal, group_id, GROUP))

    @put("/state/attributes/{key:str}", sync_to_thread=True, summary="Set one group attribute", responses=WRITE)
    @with_connection
    def set_attribute(
        self,
        group_id: FromPath[str],
        key: FromPath[str],
        data: JSONBody[AttributeSet],
        principal: NamedDependency[Principal],
    ) -> AttributeOut:
        return state.set_attribute(principal, group_id, key, data.value, GROUP)

    @patch("/state/attributes", sync_to_thread=True, summary="Merge group attributes", responses=WRITE)
    @with_connection
    def merge_attributes(
        self, group_id: FromPath[str], data: JSONBody[AttributesMerge], principal: NamedDependency[Principal]
    ) -> AttributesOut:
        return AttributesOut(attributes=state.patch_attributes(principal, group_id, data.attributes, GROUP))

    @delete("/state/attributes/{key:str}", sync_to_thread=True, summary="Delete a group attribute", responses=WRITE)
    @with_connection
    def delete_attribute(
        self, group_id: FromPath[str], key: FromPath[str], principal: NamedDependency[Principal]
    ) -> None:
        state.delete_attribute(principal, group_id, key, GROUP)

    @get("/state/tiers", sync_to_thread=True, summary="A group's tiers in a program", responses=READ)
    @with_connection
    def list_tiers(
        self, group_id: FromPath[str], principal: NamedDependency[Principal], program_id: ProgramParam
    ) -> Page[TierStateOut]:
        return _page(tier_state.list_tiers(principal, group_id, program_id, GROUP))

    @get("/state/tiers/{key:str}", sync_to_thread=True, summary="A group's level in one tier", responses=READ)
    @with_connection
    def get_tier(
        self,
        group_id: FromPath[str],
        key: FromPath[str],
        principal: NamedDependency[Principal],
        program_id: ProgramParam,
    ) -> TierStateOut:
        return tier_state.get_tier(principal, group_id, program_id, key, GROUP)

    @put("/state/tiers/{key:str}", sync_to_thread=True, summary="Set a group's level", responses=WRITE)
    @with_connection
    def set_tier(
        self,
        group_id: FromPath[str],
        key: FromPath[str],
        data: JSONBody[TierSet],
        principal: NamedDependency[Principal],
        program_id: ProgramParam,
    ) -> TierStateOut:
        """The group must be ACTIVE (409 `group_archived`), the program ACTIVE, the tier not archived (409)."""
        return tier_state.set_tier(principal, group_id, program_id, key, data, GROUP)

    @delete("/state/tiers/{key:str}", sync_to_thread=True, summary="Reset a group's tier to the base", responses=WRITE)
    @with_connection
    def remove_tier(
        self,
        group_id: FromPath[str],
        key: FromPath[str],
        principal: NamedDependency[Principal],
        program_id: ProgramParam,
    ) -> None:
        tier_state.remove_tier(principal, group_id, program_id, key, GROUP)

    @get("/activity/state-history", sync_to_thread=True, summary="A group's state history", responses=READ)
    @with_connection
    def history(
        self,
        group_id: FromPath[str],
        principal: NamedDependency[Principal],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        state_type: Annotated[Literal["tag", "counter", "attribute", "tier"] | None, QueryParameter()] = None,
        key: Annotated[str | None, QueryParameter()] = None,
        program_id: IdFilter = None,
        operation: Annotated[Literal["set", "delete", "add", "remove", "auto_reset"] | None, QueryParameter()] = None,
        from_: Annotated[str | None, QueryParameter(name="from", description=TIMESTAMP_HELP)] = None,
        to: Stamp = None,
    ) -> Page[StateHistoryOut]:
        """Newest first: changes by the API (with its key) and by rules (with the event and rule)."""
        changed = parse_timestamp("from", from_), parse_timestamp("to", to)
        check_range("from", *changed)
        return state_history(
            principal.organisation_id,
            group_id,
            owner_type=GROUP,
            state_type=state_type,
            key=key,
            program_id=program_id,
            operation=operation,
            changed_from=changed[0],
            changed_to=changed[1],
            limit=limit,
            cursor=cursor,
        )
