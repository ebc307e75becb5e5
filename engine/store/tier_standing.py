"""A participant's (or a group's, A257) level as the lifecycle sees it (`engine.model.tier_lifecycle.Standing`), read
from and written to its `participant_tier` row, and the level set anew with its schedule.

    set_level(org_id, participant_id, record, "gold", 2, origin, history)   # a rule's, the API's
    write_standing(row, standing)                                           # what a review decided

Every write keeps `due_at`, the earliest thing scheduled, which the scheduler's job looks up
(`engine.store.tier_sweeps`). A new level drops any pending drop and starts its waits (A132).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import msgspec

from engine.model.bundle import TierType
from engine.model.lifecycle import Lifecycle
from engine.model.tier_lifecycle import Standing, schedule
from engine.store.models import PARTICIPANT, ParticipantTier, TierTypeRecord
from engine.store.tier_types import program_zone, tier_to_bundle


def standing_of(row: Any) -> Standing:
    return Standing(
        level=row.level,
        rank=row.rank,
        expires_at=row.expires_at,
        period_ends_at=row.period_ends_at,
        review_at=row.review_at,
        downgrade_to=row.downgrade_to,
        pending_drop=bool(row.pending_drop),
    )


def standing_columns(standing: Standing) -> dict[str, Any]:
    return {
        "level": standing.level,
        "rank": standing.rank,
        "expires_at": standing.expires_at,
        "period_ends_at": standing.period_ends_at,
        "review_at": standing.review_at,
        "downgrade_to": standing.downgrade_to,
        "pending_drop": standing.pending_drop,
        "due_at": standing.due_at,
    }


def write_standing(row_id: str, standing: Standing, model: Any = ParticipantTier, **more: Any) -> None:
    """Write a level's standing to its row of `model` (`participant_tier` or `group_tier`)."""
    columns = standing_columns(standing) | more
    model.update({model._meta.fields[k]: v for k, v in columns.items()}).where(model.id == row_id).execute()


def active_spec(record: TierTypeRecord) -> TierType:
    """The tier type as its lifecycle runs it: an ARCHIVED tier's levels no longer move (A125), so
    it runs without a lifecycle (only an `expires_at` still ends a level)."""
    spec = tier_to_bundle(record)
    return spec if spec.status == "ACTIVE" else msgspec.structs.replace(spec, lifecycle=Lifecycle())


def scheduled(
    record: TierTypeRecord,
    row: Any,
    level: str,
    rank: int,
    at: datetime,
    expires_at: datetime | None,
) -> Standing:
    """The standing of a level set at `at`: the row's period end carries on (periods are the
    member's, not the level's), the rest starts anew."""
    base = Standing(level=level, rank=rank, expires_at=expires_at)
    if row is not None and row.period_ends_at is not None:
        base = replace(base, period_ends_at=row.period_ends_at)
    return schedule(active_spec(record), base, at, program_zone(record.program_id))


@dataclass(frozen=True)
class TierMove:
    """A change of a participant's or a group's level, as `participant.tier_changed` reports it
    (A134): the old and new level (None: none), and why (A133). `participant_id` is the owner's
    id, a group's when `owner_type` is GROUP (the webhook then names `group_id`, A260)."""

    organisation_id: str
    participant_id: str
    program_id: str
    tier: str
    old_level: str | None
    old_rank: int | None
    new_level: str | None
    new_rank: int | None
    reason: str
    at: datetime
    event_id: str | None = None
    owner_type: str = PARTICIPANT
