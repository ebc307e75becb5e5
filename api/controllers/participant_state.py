"""`/v1/participants/{id}/state/...`: tags, counters, attributes and tiers."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Principal
from api.db import with_connection
from api.errors import responses
from api.pagination import Page, PageInfo
from api.queries import state, tier_state
from api.schemas.participants import (
    AttributeOut,
    AttributeSet,
    AttributesMerge,
    AttributesOut,
    CounterOut,
    CounterSet,
    TagOut,
    TagsOut,
    TagsReplace,
    TierSet,
    TierStateOut,
)

NOT_FOUND = responses(404)
ProgramParam = Annotated[str, QueryParameter(description="The program whose tiers are meant (required)")]


def _page(items: list) -> Page:
    return Page(data=items, pagination=PageInfo(has_more=False))


class ParticipantStateController(Controller):
    path = "/v1/participants/{participant_id:str}/state"
    tags = ("participant state",)

    @get("/tags", sync_to_thread=True, summary="A participant's tags", responses=NOT_FOUND)
    @with_connection
    def list_tags(self, participant_id: FromPath[str], principal: NamedDependency[Principal]) -> Page[TagOut]:
        return _page([TagOut(tag=t) for t in state.list_tags(principal, participant_id)])

    @put("/tags/{tag:str}", sync_to_thread=True, summary="Add a tag (idempotent)", responses=NOT_FOUND)
    @with_connection
    def add_tag(
        self, participant_id: FromPath[str], tag: FromPath[str], principal: NamedDependency[Principal]
    ) -> TagOut:
        return TagOut(tag=state.add_tag(principal, participant_id, tag))

    @put("/tags", sync_to_thread=True, summary="Replace all tags", responses=NOT_FOUND)
    @with_connection
    def set_tags(
        self, participant_id: FromPath[str], data: JSONBody[TagsReplace], principal: NamedDependency[Principal]
    ) -> TagsOut:
        return TagsOut(tags=state.set_tags(principal, participant_id, data.tags))

    @delete("/tags/{tag:str}", sync_to_thread=True, summary="Remove a tag (no-op when absent)", responses=NOT_FOUND)
    @with_connection
    def remove_tag(
        self, participant_id: FromPath[str], tag: FromPath[str], principal: NamedDependency[Principal]
    ) -> None:
        state.remove_tag(principal, participant_id, tag)

    @get("/counters", sync_to_thread=True, summary="A participant's counters", responses=NOT_FOUND)
    @with_connection
    def list_counters(self, participant_id: FromPath[str], principal: NamedDependency[Principal]) -> Page[CounterOut]:
        return _page(state.list_counters(principal, participant_id))

    @get("/counters/{key:str}", sync_to_thread=True, summary="One counter (its effective value)", responses=NOT_FOUND)
    @with_connection
    def get_counter(
        self, participant_id: FromPath[str], key: FromPath[str], principal: NamedDependency[Principal]
    ) -> CounterOut:
        return state.get_counter(principal, participant_id, key)

    @put("/counters/{key:str}", sync_to_thread=True, summary="Set a counter's absolute value", responses=NOT_FOUND)
    @with_connection
    def set_counter(
        self,
        participant_id: FromPath[str],
        key: FromPath[str],
        data: JSONBody[CounterSet],
        principal: NamedDependency[Principal],
    ) -> CounterOut:
        return state.set_counter(principal, participant_id, key, data)

    @delete("/counters/{key:str}", sync_to_thread=True, summary="Delete a counter", responses=NOT_FOUND)
    @with_connection
    def delete_counter(
        self, participant_id: FromPath[str], key: FromPath[str], principal: NamedDependency[Principal]
    ) -> None:
        state.delete_counter(principal, participant_id, key)

    @get("/attributes", sync_to_thread=True, summary="A participant's attributes", responses=NOT_FOUND)
    @with_connection
    def list_attributes(
        self, participant_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> Page[AttributeOut]:
        return _page(state.list_attributes(principal, participant_id))

    @put("/attributes/{key:str}", sync_to_thread=True, summary="Set one attribute", responses=NOT_FOUND)
    @with_connection
    def set_attribute(
        self,
        participant_id: FromPath[str],
        key: FromPath[str],
        data: JSONBody[AttributeSet],
        principal: NamedDependency[Principal],
    ) -> AttributeOut:
        return state.set_attribute(principal, participant_id, key, data.value)

    @patch("/attributes", sync_to_thread=True, summary="Merge attributes", responses=NOT_FOUND)
    @with_connection
    def merge_attributes(
        self, participant_id: FromPath[str], data: JSONBody[AttributesMerge], principal: NamedDependency[Principal]
    ) -> AttributesOut:
        return AttributesOut(attributes=state.patch_attributes(principal, participant_id, data.attributes))

    @delete("/attributes/{key:str}", sync_to_thread=True, summary="Delete an attribute", responses=NOT_FOUND)
    @with_connection
    def delete_attribute(
        self, participant_id: FromPath[str], key: FromPath[str], principal: NamedDependency[Principal]
    ) -> None:
        state.delete_attribute(principal, participant_id, key)

    @get("/tiers", sync_to_thread=True, summary="A participant's tiers in a program", responses=NOT_FOUND)
    @with_connection
    def list_tiers(
        self, participant_id: FromPath[str], principal: NamedDependency[Principal], program_id: ProgramParam
    ) -> Page[TierStateOut]:
        return _page(tier_state.list_tiers(principal, participant_id, program_id))

    @get("/tiers/{key:str}", sync_to_thread=True, summary="A participant's level in one tier", responses=NOT_FOUND)
    @with_connection
    def get_tier(
        self,
        participant_id: FromPath[str],
        key: FromPath[str],
        principal: NamedDependency[Principal],
        program_id: ProgramParam,
    ) -> TierStateOut:
        return tier_state.get_tier(principal, participant_id, program_id, key)

    @put("/tiers/{key:str}", sync_to_thread=True, summary="Set a participant's level", responses=responses(404, 409))
    @with_connection
    def set_tier(
        self,
        participant_id: FromPath[str],
        key: FromPath[str],
        data: JSONBody[TierSet],
        principal: NamedDependency[Principal],
        program_id: ProgramParam,
    ) -> TierStateOut:
        """The participant must be ACTIVE and enrolled, the program ACTIVE, the tier not archived (409)."""
        return tier_state.set_tier(principal, participant_id, program_id, key, data)

    @delete("/tiers/{key:str}", sync_to_thread=True, summary="Reset a tier to the base", responses=NOT_FOUND)
    @with_connection
    def remove_tier(
        self,
        participant_id: FromPath[str],
        key: FromPath[str],
        principal: NamedDependency[Principal],
        program_id: ProgramParam,
    ) -> None:
        tier_state.remove_tier(principal, participant_id, program_id, key)
