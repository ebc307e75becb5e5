"""Bodies of `/v1/groups`: groups, their members and their balances (the balance operations take
the participants' bodies, `api.schemas.participants.Adjust` and `BalanceOperation`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas.common import Id, Name, Request, Response
from api.schemas.participants import TierOut

Role = Literal["ADMIN", "MEMBER"]
MembersList = Annotated[list["MemberIn"], msgspec.Meta(min_length=1, max_length=1000)]


class MemberIn(Request):
    participant_id: Id
    role: Role = "MEMBER"


class GroupCreate(Request):
    """Example: `{"name": "Smith household", "members": [{"participant_id": "...", "role": "ADMIN"}]}`.
    At least one member, at least one of them ADMIN."""

    name: Name
    members: MembersList
    on_behalf_of_participant_id: Id | None = None


class GroupRename(Request):
    name: Name


class MembersAdd(Request):
    """One member (`participant_id`, `role`) or several (`members: [...]`), never both. A
    participant that LEFT is added again with the role given."""

    participant_id: Id | UnsetType = UNSET
    role: Role | UnsetType = UNSET
    members: MembersList | UnsetType = UNSET
    on_behalf_of_participant_id: Id | None = None


class RoleChange(Request):
    role: Role
    on_behalf_of_participant_id: Id | None = None


class GroupOut(Response):
    id: str
    name: str
    status: str
    on_behalf_of_participant_id: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    # GET /v1/groups/{id} only: asset id -> the total of every bucket in every program
    balances: dict[str, str] | UnsetType = UNSET
    # GET /v1/groups/{id} only: tier key -> the group's live level (as a participant's detail, A257)
    tiers: dict[str, TierOut] | UnsetType = UNSET


class MemberOut(Response):
    participant_id: str
    external_id: str
    role: str
    status: str
    joined_at: datetime
    left_at: datetime | None
    on_behalf_of_participant_id: str | None


class Message(Response):
    message: str


class RoleChanged(Response):
    message: str
    participant_id: str
    role: str


class GroupBalanceOut(Response):
    """A group's balance of one asset in one program: `balance` is the total (Scrip's field), the
    buckets are what it is made of."""

    program_id: str
    asset_id: str
    balance: str
    available: str
    held: str
    deferred: str
