"""A group as it is read: its balances in each program as of now, and its members, for the API
(`api/queries/groups.py`) and `accrual groups` alike.

    group_balances(group.id)                        # [(program_id, asset, Balance), ...]
    members_query(group.id, include_former=True)    # GroupMember rows, each with its participant
    groups_with_member_counts(None, include_archived=False, limit=100)
"""

from __future__ import annotations

from engine.model.state import Balance
from engine.store import statements
from engine.store.db import utcnow
from engine.store.ledger.accounts import balances_of
from engine.store.ledger.lots import balances_as_of
from engine.store.models import GROUP, Account, Asset, Group, GroupMember, Participant

ACTIVE = "ACTIVE"


def group_balances(
    group_id: str, program_id: str | None = None, asset_id: str | None = None
) -> list[tuple[str, Asset, Balance]]:
    """(program id, asset, balance) of the group, by program then asset id, as of now (expired
    value left out, matured value available): a group's accounts are kept per program."""
    scopes = (
        Account.select(Account.program_scope)
        .distinct()
        .where((Account.entity_type == GROUP) & (Account.entity_id == group_id))
    )
    if program_id is not None:
        scopes = scopes.where(Account.program_scope == program_id)
    now = utcnow()
    rows: list[tuple[str, Asset, Balance]] = []
    for scope in sorted(row.program_scope for row in scopes):
        stored = balances_of(GROUP, group_id, [asset_id] if asset_id else None, scope)
        viewed = balances_as_of(GROUP, group_id, stored, now, scope)
        assets = {a.id: a for a in Asset.select().where(Asset.id.in_(list(viewed)))}
        rows.extend((scope, assets[aid], balance) for aid, balance in sorted(viewed.items()) if aid in assets)
    return rows


def members_query(group_id: str, *, include_former: bool):
    """The group's active members (those that LEFT too with `include_former`), each row with its
    participant's id and external id, in the order they first joined."""
    query = (
        GroupMember.select(GroupMember, Participant.id, Participant.external_id)
        .join(Participant)
        .where(GroupMember.group == group_id)
    )
    if not include_former:
        query = query.where(GroupMember.status == ACTIVE)
    return query.order_by(GroupMember.id)


def groups_with_member_counts(
    organisation_id: str | None, *, include_archived: bool, limit: int
) -> list[tuple[Group, int]]:
    """Groups newest first (of one organisation, or of all), each with its active members' count."""
    query = Group.select().order_by(Group.created_at.desc(), Group.id.desc()).limit(limit)
    if organisation_id is not None:
        query = query.where(Group.organisation == organisation_id)
    if not include_archived:
        query = query.where(Group.status == ACTIVE)
    found = list(query)
    counts: dict[str, int] = {}
    if found:
        counts = dict(
            statements.rows(
                "SELECT group_id, COUNT(*) FROM group_member WHERE status = {p} "
                f"AND group_id IN ({statements.marks(len(found))}) GROUP BY group_id",
                [ACTIVE, *(row.id for row in found)],
                (str, int),
            )
        )
    return [(row, counts.get(row.id, 0)) for row in found]
