"""Groups for the API: the group and its members as the API shows them, the lists, and the
group's balances per program and asset (as they stand now: lots past expiry left out, credits
past maturity available, `engine.store.ledger.lots.balances_as_of`)."""

from __future__ import annotations

from decimal import Decimal

from api.pagination import Page, paginate
from api.queries.programs import amount_text
from api.schemas.groups import GroupBalanceOut, GroupOut, MemberOut
from api.schemas.participants import TierOut
from engine.model.state import Balance
from engine.store import group_views, groups
from engine.store.models import Group, GroupMember, GroupTier
from engine.store.owner_state import live_level


def group_out(row: Group, *, detail: bool = False) -> GroupOut:
    out = GroupOut(
        id=row.id,
        name=row.name,
        status=row.status,
        on_behalf_of_participant_id=row.on_behalf_of_participant_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
    )
    if detail:
        totals: dict[str, Decimal] = {}
        scales: dict[str, int] = {}
        for _, asset, balance in group_views.group_balances(row.id):
            totals[asset.id] = totals.get(asset.id, Decimal(0)) + _total(balance)
            scales[asset.id] = asset.scale
        out.balances = {asset_id: amount_text(total, scales[asset_id]) for asset_id, total in sorted(totals.items())}
        levels = GroupTier.select().where((GroupTier.group == row.id) & live_level(model=GroupTier))
        out.tiers = {level.tier_key: TierOut(level=level.level, rank=level.rank) for level in levels}
    return out


def get_group(org_id: str, group_id: str) -> GroupOut:
    return group_out(groups.group(org_id, group_id), detail=True)


def list_groups(
    org_id: str, *, include_archived: bool, search: str | None, descending: bool, limit: int, cursor: str | None
) -> Page[GroupOut]:
    """Newest first by default; archived groups only with `include_archived`."""
    query = Group.select().where(Group.organisation == org_id)
    if not include_archived:
        query = query.where(Group.status == groups.ACTIVE)
    if search:
        query = query.where(Group.name.contains(search))
    return paginate(
        query,
        keys=[Group.created_at, Group.id],
        descending=descending,
        limit=limit,
        cursor=cursor,
        listing="groups",
        render=group_out,
    )


def list_members(
    org_id: str, group_id: str, *, include_former: bool, limit: int, cursor: str | None
) -> Page[MemberOut]:
    """Active members in the order they first joined; those that LEFT too with `include_former`."""
    row = groups.group(org_id, group_id)
    return paginate(
        group_views.members_query(row.id, include_former=include_former).order_by(),
        keys=[GroupMember.id],
        descending=False,
        limit=limit,
        cursor=cursor,
        listing="group_members",
        render=member_out,
    )


def member_out(row: GroupMember) -> MemberOut:
    return MemberOut(
        participant_id=row.participant_id,
        external_id=row.participant.external_id,
        role=row.role,
        status=row.status,
        joined_at=row.joined_at,
        left_at=row.left_at,
        on_behalf_of_participant_id=row.on_behalf_of_participant_id,
    )


def group_balances(org_id: str, group_id: str, program_id: str | None, asset_id: str | None) -> list[GroupBalanceOut]:
    row = groups.group(org_id, group_id)
    return [
        GroupBalanceOut(
            program_id=scope,
            asset_id=asset.id,
            balance=amount_text(_total(balance), asset.scale),
            available=amount_text(balance.available, asset.scale),
            held=amount_text(balance.held, asset.scale),
            deferred=amount_text(balance.deferred, asset.scale),
        )
        for scope, asset, balance in group_views.group_balances(row.id, program_id, asset_id)
    ]


def _total(balance: Balance) -> Decimal:
    return balance.available + balance.held + balance.deferred
