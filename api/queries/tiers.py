"""Tier types of a program for the API, through `engine.store.tier_types` (which bumps the program's
`rules_version` on every change, so the worker compiles the program again)."""

from __future__ import annotations

import msgspec
from msgspec import UNSET

from api.errors import field_error
from api.pagination import Page, paginate
from api.schemas.tiers import (
    TierCreate,
    TierPatch,
    TierPreviewMove,
    TierPreviewOut,
    TierPreviewRequest,
    TierTypeLevelOut,
    TierTypeOut,
)
from engine.model.bundle import TierType
from engine.store import lookups, tier_preview, tier_types
from engine.store.models import TierTypeRecord


def tier_out(row: TierTypeRecord) -> TierTypeOut:
    spec = tier_types.tier_to_bundle(row)
    levels = [
        TierTypeLevelOut(
            key=level.key,
            rank=level.rank,
            display_name=level.display_name,
            benefits=level.benefits,
            qualification=level.qualification,
        )
        for level in sorted(spec.levels, key=lambda level: level.rank)
    ]
    return TierTypeOut(
        id=row.id,
        program_id=row.program_id,
        key=row.key,
        display_name=spec.display_name,
        levels=levels,
        lifecycle=spec.lifecycle,
        status=spec.status,  # the row's status (`tier_to_bundle` takes it from the column)
        created_at=row.created_at,
        updated_at=row.updated_at,
        archived_at=row.archived_at if row.archived_at is not None else UNSET,
    )


def create_tier(org_id: str, program_id: str, data: TierCreate) -> TierTypeOut:
    spec = TierType(key=data.key, display_name=data.display_name, levels=data.levels, lifecycle=data.lifecycle)
    return tier_out(tier_types.create_tier_type(org_id, program_id, spec))


def get_tier(org_id: str, program_id: str, key: str) -> TierTypeOut:
    return tier_out(tier_types.get_tier_type(org_id, program_id, key))


def list_tiers(
    org_id: str, program_id: str, *, status: str | None, limit: int, cursor: str | None
) -> Page[TierTypeOut]:
    """The program's tier types by key; 404 for a program of another organisation."""
    lookups.program(org_id, program_id)
    query = TierTypeRecord.select().where(
        (TierTypeRecord.organisation == org_id) & (TierTypeRecord.program == program_id)
    )
    if status is not None:
        query = query.where(TierTypeRecord.status == status)
    return paginate(
        query, keys=[TierTypeRecord.key], descending=False, limit=limit, cursor=cursor, listing="tiers", render=tier_out
    )


def patch_tier(org_id: str, program_id: str, key: str, data: TierPatch) -> TierTypeOut:
    changes = {
        name: value for name, value in msgspec.structs.asdict(data).items() if value is not UNSET and value is not None
    }
    if not changes:
        raise field_error("body", "give at least one of display_name, levels, lifecycle")
    if "lifecycle" in changes:
        changes["lifecycle"] = msgspec.to_builtins(changes["lifecycle"])
    if "levels" in changes:
        changes["levels"] = [
            {k: v for k, v in msgspec.to_builtins(level).items() if v is not None} for level in changes["levels"]
        ]
    return tier_out(tier_types.update_tier_type(org_id, program_id, key, changes))


def archive_tier(org_id: str, program_id: str, key: str) -> TierTypeOut:
    return tier_out(tier_types.archive_tier_type(org_id, program_id, key))


def preview_tiers(org_id: str, program_id: str, data: TierPreviewRequest) -> TierPreviewOut:
    """Who the given tier types would move now (A138); checked as a create would check them,
    nothing written."""
    lookups.program(org_id, program_id)
    for spec in data.tiers:
        tier_types.check_tier_type(spec)
    report = tier_preview.preview_program(program_id, data.tiers, limit=data.limit)
    moves = [
        TierPreviewMove(
            participant_id=member.participant_id,
            external_id=member.external_id,
            tier=member.move.tier,
            current_level=member.move.current_level,
            current_rank=member.move.current_rank,
            new_level=member.move.new_level,
            new_rank=member.move.new_rank,
            direction="UP" if member.move.direction == "UP" else "DOWN",
        )
        for member in report.moves
    ]
    return TierPreviewOut(members=report.members, counts=report.counts, data=moves)
