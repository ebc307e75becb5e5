"""Spending for the API: the rewards catalog through `engine.store.rewards`, and the lists of
redemptions and reversals; a transfer request's typed parties as `engine.store.transfers.Party`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast

import msgspec
from msgspec import UNSET

from api.errors import field_error
from api.pagination import Page, paginate
from api.schemas.spending import (
    RedemptionType,
    RewardCreate,
    RewardOut,
    RewardPatch,
    RewardStatus,
    TransferRequest,
)
from engine.model.rewards import Reward
from engine.store import lookups, rewards
from engine.store.models import Asset, RedemptionRecord, ReversalRecord, RewardRecord
from engine.store.redemptions import redemption_row
from engine.store.spending_results import Redemption, Reversal, redemption_of, reversal_of
from engine.store.transfers import Party


def reward_out(row: RewardRecord) -> RewardOut:
    return RewardOut(
        id=row.id,
        program_id=row.program_id,
        name=row.name,
        description=row.description,
        category=row.category,
        metadata=row.metadata or {},
        redemption_type=cast(RedemptionType, row.redemption_type),
        asset_id=row.asset_id,
        unit_cost=row.unit_cost,
        max_total=row.max_total,
        max_per_participant=row.max_per_participant,
        redeemed_count=row.redeemed_count,
        status=cast(RewardStatus, row.status),
        available_from=row.available_from,
        available_until=row.available_until,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
    )


def create_reward(org_id: str, program_id: str, data: RewardCreate) -> RewardOut:
    fields = {name: value for name, value in msgspec.structs.asdict(data).items() if value is not None}
    return reward_out(rewards.create_reward(org_id, program_id, Reward(**fields)))


def get_reward(org_id: str, program_id: str, reward_id: str) -> RewardOut:
    return reward_out(rewards.reward_row(org_id, program_id, reward_id))


def patch_reward(org_id: str, program_id: str, reward_id: str, data: RewardPatch) -> RewardOut:
    changes = {name: value for name, value in msgspec.structs.asdict(data).items() if value is not UNSET}
    for required in ("name", "unit_cost", "status", "redemption_type", "asset_id"):
        if changes.get(required, "") is None:
            raise field_error(required, f"{required} cannot be null", reason="required")
    return reward_out(rewards.update_reward(org_id, program_id, reward_id, changes))


def list_rewards(
    org_id: str,
    program_id: str,
    *,
    status: str | None,
    include_archived: bool,
    search: str | None,
    sort_by: Literal["created_at", "name"],
    descending: bool,
    limit: int,
    cursor: str | None,
) -> Page[RewardOut]:
    """ARCHIVED rewards are hidden unless `status` or `include_archived` asks for them; `search`
    matches the name."""
    lookups.program(org_id, program_id)
    query = RewardRecord.select().where((RewardRecord.organisation == org_id) & (RewardRecord.program == program_id))
    if status is not None:
        query = query.where(RewardRecord.status == status)
    elif not include_archived:
        query = query.where(RewardRecord.status != "ARCHIVED")
    if search:
        query = query.where(RewardRecord.name.contains(search))
    keys = [RewardRecord.created_at if sort_by == "created_at" else RewardRecord.name, RewardRecord.id]
    return paginate(
        query, keys=keys, descending=descending, limit=limit, cursor=cursor, listing="rewards", render=reward_out
    )


def get_redemption(org_id: str, redemption_id: str) -> Redemption:
    row = redemption_row(org_id, redemption_id)
    return redemption_of(row, Asset.get_by_id(row.asset_id))


def list_redemptions(
    org_id: str,
    participant_id: str,
    *,
    program_id: str | None,
    reward_id: str | None,
    status: str | None,
    created: tuple[datetime | None, datetime | None] = (None, None),
    limit: int,
    cursor: str | None,
) -> Page[Redemption]:
    """A participant's redemptions, newest first; `created` bounds `created_at` (inclusive)."""
    lookups.participant(org_id, participant_id)
    query = RedemptionRecord.select().where(
        (RedemptionRecord.organisation == org_id) & (RedemptionRecord.participant == participant_id)
    )
    for column, value in (
        (RedemptionRecord.program, program_id),
        (RedemptionRecord.reward, reward_id),
        (RedemptionRecord.status, status),
    ):
        if value is not None:
            query = query.where(column == value)
    if created[0] is not None:
        query = query.where(RedemptionRecord.created_at >= created[0])
    if created[1] is not None:
        query = query.where(RedemptionRecord.created_at <= created[1])
    assets: dict[str, Asset] = {}

    def render(row: RedemptionRecord) -> Redemption:
        asset = assets.get(row.asset_id) or assets.setdefault(row.asset_id, Asset.get_by_id(row.asset_id))
        return redemption_of(row, asset)

    keys = [RedemptionRecord.created_at, RedemptionRecord.id]
    return paginate(query, keys=keys, descending=True, limit=limit, cursor=cursor, listing="redemptions", render=render)


def list_reversals(org_id: str, redemption_id: str, *, limit: int, cursor: str | None) -> Page[Reversal]:
    """A redemption's reversals in the order they were made."""
    row = redemption_row(org_id, redemption_id)
    asset = Asset.get_by_id(row.asset_id)
    query = ReversalRecord.select().where(ReversalRecord.redemption == row.id)
    keys = [ReversalRecord.created_at, ReversalRecord.id]
    return paginate(
        query,
        keys=keys,
        descending=False,
        limit=limit,
        cursor=cursor,
        listing="reversals",
        render=lambda reversal: reversal_of(reversal, asset),
    )


def transfer_parties(data: TransferRequest) -> tuple[Party, list[tuple[Party, Any]]]:
    """The request's source and recipients; 400 naming the field unless each names exactly one party."""
    source = _party(
        "source", data.source_participant_id, data.source_external_id, data.source_group_id, prefix="source_"
    )
    recipients = [
        (_party(f"recipients[{index}]", item.participant_id, item.external_id, item.group_id), item.amount)
        for index, item in enumerate(data.recipients)
    ]
    return source, recipients


def _party(
    field: str, participant_id: str | None, external_id: str | None, group_id: str | None, *, prefix: str = ""
) -> Party:
    given = [value is not None for value in (participant_id, external_id, group_id)]
    if sum(given) != 1:
        names = ", ".join(f"{prefix}{name}" for name in ("participant_id", "external_id", "group_id"))
        raise field_error(field, f"{field} names exactly one of {names}")
    if group_id is not None:
        return Party("GROUP", id=group_id)
    return Party("PARTICIPANT", id=participant_id, external_id=external_id)
