"""`/v1/groups`: create, list, get (with balances), rename, archive, and membership (list with
`include_former`, add one or many, change a role, remove as LEFT). The store
(`engine.store.groups`) keeps the rules: at least one ADMIN always, archived groups read-only.
The balances and balance operations are in `group_balances`."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Principal
from api.db import with_connection
from api.errors import field_error, responses
from api.pagination import LIMIT_DEFAULT, CursorParam, LimitParam, Page, SortDirParam
from api.queries.groups import get_group, group_out, list_groups, list_members, member_out
from api.schemas.groups import (
    GroupCreate,
    GroupOut,
    GroupRename,
    MemberOut,
    MembersAdd,
    Message,
    RoleChange,
    RoleChanged,
)
from engine.store import groups
from engine.store.groups import Member


class GroupController(Controller):
    path = "/v1/groups"
    tags = ("groups",)

    @post("/", status_code=201, sync_to_thread=True, summary="Create a group", responses=responses(404))
    @with_connection
    def create_group(self, data: JSONBody[GroupCreate], principal: NamedDependency[Principal]) -> GroupOut:
        """At least one member and at least one ADMIN (`admin_required`); each participant once."""
        members = [Member(m.participant_id, m.role) for m in data.members]
        row = groups.create_group(
            principal.organisation_id, data.name, members, on_behalf_of=data.on_behalf_of_participant_id
        )
        return group_out(row)

    @get("/", sync_to_thread=True, summary="List groups")
    @with_connection
    def list_groups(
        self,
        principal: NamedDependency[Principal],
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        include_archived: Annotated[bool, QueryParameter()] = False,
        search: Annotated[str | None, QueryParameter(max_length=255, description="Part of the name")] = None,
        sort_dir: SortDirParam = "desc",
    ) -> Page[GroupOut]:
        """Newest first; archived groups only with `include_archived=true`. No balances in lists."""
        return list_groups(
            principal.organisation_id,
            include_archived=include_archived,
            search=search,
            descending=sort_dir == "desc",
            limit=limit,
            cursor=cursor,
        )

    @get("/{group_id:str}", sync_to_thread=True, summary="Get a group with its balances", responses=responses(404))
    @with_connection
    def get_group(self, group_id: FromPath[str], principal: NamedDependency[Principal]) -> GroupOut:
        """`balances` maps each asset id to the group's total in every bucket and program."""
        return get_group(principal.organisation_id, group_id)

    @patch("/{group_id:str}", sync_to_thread=True, summary="Rename a group", responses=responses(404, 409))
    @with_connection
    def rename_group(
        self, group_id: FromPath[str], data: JSONBody[GroupRename], principal: NamedDependency[Principal]
    ) -> GroupOut:
        """409 `group_archived` for an archived group."""
        return group_out(groups.rename_group(principal.organisation_id, group_id, data.name))

    @delete(
        "/{group_id:str}",
        status_code=200,
        sync_to_thread=True,
        summary="Archive a group (permanent)",
        responses=responses(404, 409),
    )
    @with_connection
    def archive_group(self, group_id: FromPath[str], principal: NamedDependency[Principal]) -> GroupOut:
        """One-way: an archived group stays readable (and keeps its balances) but nothing changes
        it again; archiving it twice is 409 `group_archived`."""
        return group_out(groups.archive_group(principal.organisation_id, group_id))

    @get("/{group_id:str}/members", sync_to_thread=True, summary="List a group's members", responses=responses(404))
    @with_connection
    def list_members(
        self,
        group_id: FromPath[str],
        principal: NamedDependency[Principal],
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        include_former: Annotated[bool, QueryParameter()] = False,
    ) -> Page[MemberOut]:
        """Active members; with `include_former=true` also those that LEFT."""
        return list_members(
            principal.organisation_id, group_id, include_former=include_former, limit=limit, cursor=cursor
        )

    @post(
        "/{group_id:str}/members",
        status_code=200,
        sync_to_thread=True,
        summary="Add one member or several",
        responses=responses(404, 409),
    )
    @with_connection
    def add_members(
        self, group_id: FromPath[str], data: JSONBody[MembersAdd], principal: NamedDependency[Principal]
    ) -> Message:
        """`{participant_id, role}` or `{members: [...]}`; a participant that LEFT comes back with
        the role given; an already active member fails the whole request (409 `already_member`)."""
        members = _members_of(data)
        groups.add_members(principal.organisation_id, group_id, members, on_behalf_of=data.on_behalf_of_participant_id)
        return Message(message="Member(s) added to group")  # Scrip's words, one member or several

    @patch(
        "/{group_id:str}/members/{participant_id:str}",
        sync_to_thread=True,
        summary="Change a member's role",
        responses=responses(404, 409),
    )
    @with_connection
    def change_role(
        self,
        group_id: FromPath[str],
        participant_id: FromPath[str],
        data: JSONBody[RoleChange],
        principal: NamedDependency[Principal],
    ) -> RoleChanged:
        """The last ADMIN cannot be demoted (409 `last_admin`)."""
        member = groups.change_role(
            principal.organisation_id,
            group_id,
            participant_id,
            data.role,
            on_behalf_of=data.on_behalf_of_participant_id,
        )
        return RoleChanged(message="Member role updated", participant_id=member.participant_id, role=member.role)

    @delete(
        "/{group_id:str}/members/{participant_id:str}",
        status_code=200,
        sync_to_thread=True,
        summary="Remove a member (LEFT)",
        responses=responses(404, 409),
    )
    @with_connection
    def remove_member(
        self,
        group_id: FromPath[str],
        participant_id: FromPath[str],
        principal: NamedDependency[Principal],
        on_behalf_of_participant_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> MemberOut:
        """A soft removal: the member is LEFT (listed with `include_former`) and may be added
        again; the group's balances are untouched. The last ADMIN cannot be removed (409
        `last_admin`)."""
        member = groups.remove_member(
            principal.organisation_id, group_id, participant_id, on_behalf_of=on_behalf_of_participant_id
        )
        return member_out(member)


def _members_of(data: MembersAdd) -> list[Member]:
    """The members one add names: exactly one of the single form and the bulk form."""
    single = data.participant_id is not msgspec.UNSET
    if single == (data.members is not msgspec.UNSET):
        raise field_error("members", "give either participant_id (one member) or members (several)", reason="required")
    if data.members is not msgspec.UNSET:
        if data.role is not msgspec.UNSET:
            raise field_error("role", "role goes with participant_id; in members each member has its own")
        return [Member(m.participant_id, m.role) for m in data.members]
    role = "MEMBER" if data.role is msgspec.UNSET else data.role
    return [Member(str(data.participant_id), role)]
