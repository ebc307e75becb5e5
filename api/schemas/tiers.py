"""Bodies of `/v1/programs/{program_id}/tiers`. Levels are `engine.model.bundle.TierLevel` (one
schema for files and the API, D28); a PATCH upserts levels by key."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas.common import Request, Response
from engine.limits import INTEGER_COLUMN_MAX
from engine.model.bundle import Key, Name, Qualification, TierLevel, TierType
from engine.model.lifecycle import Lifecycle

TierStatus = Literal["ACTIVE", "ARCHIVED"]


class TierCreate(Request, kw_only=True):
    """Example: `{"key": "status", "levels": [{"key": "bronze", "rank": 0}, {"key": "silver", "rank": 1,
    "qualification": {"criteria": [{"counter": "miles", "operator": ">=", "threshold": 25000}]}}]}`."""

    key: Key
    display_name: Name | None = None
    levels: Annotated[list[TierLevel], msgspec.Meta(min_length=1, max_length=100)]
    lifecycle: Lifecycle = msgspec.field(default_factory=Lifecycle)  # `{}`: a rules-only tier


class TierLevelPatch(Request, kw_only=True):
    """One level to upsert: an existing key changes the fields given; a new key needs `rank`.
    `qualification: {}` removes auto-advancement to the level."""

    key: Key
    rank: Annotated[int, msgspec.Meta(ge=0, le=INTEGER_COLUMN_MAX)] | None = None
    display_name: Name | None = None
    benefits: dict[str, Any] | None = None
    qualification: Qualification | None = None


class TierPatch(Request, kw_only=True):
    """Omitted or null fields stay; `lifecycle: {}` clears it; `levels` are upserted by key."""

    display_name: Name | UnsetType | None = UNSET
    levels: Annotated[list[TierLevelPatch], msgspec.Meta(max_length=100)] | UnsetType | None = UNSET
    lifecycle: Lifecycle | UnsetType | None = UNSET


class TierTypeLevelOut(Response, kw_only=True):
    key: str
    rank: int
    display_name: str | None
    benefits: dict[str, Any]
    qualification: Qualification | None


class TierTypeOut(Response, kw_only=True):
    id: str
    program_id: str
    key: str
    display_name: str | None
    levels: list[TierTypeLevelOut]
    lifecycle: Lifecycle
    status: TierStatus
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | UnsetType = UNSET  # present only when archived


class TierPreviewRequest(Request, kw_only=True):
    """Tier types as they would be written (the bundle's `TierType`); nothing is stored."""

    tiers: Annotated[list[TierType], msgspec.Meta(min_length=1, max_length=100)]
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 100


class TierPreviewMove(Response, kw_only=True):
    participant_id: str
    external_id: str
    tier: str
    current_level: str | None
    current_rank: int | None
    new_level: str | None
    new_rank: int | None
    direction: Literal["UP", "DOWN"]


class TierPreviewOut(Response, kw_only=True):
    """`counts`: per tier, how many members would move UP and DOWN; `data`: the first `limit` of
    them, by participant id."""

    members: int
    counts: dict[str, dict[str, int]]
    data: list[TierPreviewMove]
