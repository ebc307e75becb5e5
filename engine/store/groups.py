"""Groups: shared wallets of an organisation and their membership (Scrip's group model).

    group = create_group(org.id, "Smith household", [Member(p1.id, ADMIN), Member(p2.id)])
    add_members(org.id, group.id, [Member(p3.id)])
    change_role(org.id, group.id, p2.id, ADMIN)
    remove_member(org.id, group.id, p1.id)          # LEFT, never deleted; may be re-added
    archive_group(org.id, group.id)                 # one-way; readable, no longer modifiable

A group always keeps at least one active ADMIN: creating a group needs one, and the last one can
be neither demoted nor removed (`last_admin`). Every membership change locks the group's row
first, so two concurrent changes cannot both remove "the other" admin. Membership rows are soft:
removal marks the row LEFT with `left_at`, and adding that participant again reactivates the same
row with its new role. `on_behalf_of_participant_id` records who asked (audit only: any API key
may manage any group). Removing a member leaves the group's balances alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from engine.model.state import GroupState
from engine.store.db import utcnow, write_transaction
from engine.store.errors import Conflict, LedgerRejected, NotFound
from engine.store.models import GROUP, Group, GroupMember, GroupTier, GroupTierRollover, Participant
from engine.store.owner_state import live_tiers, load_entity_state, lock_owner

ADMIN, MEMBER = "ADMIN", "MEMBER"
ROLES = (ADMIN, MEMBER)
ACTIVE, LEFT, ARCHIVED = "ACTIVE", "LEFT", "ARCHIVED"
MEMBERS_MAX = 1000  # members named by one create or bulk add


class Member(NamedTuple):
    """A participant and the role it is to have in a group."""

    participant_id: str
    role: str = MEMBER


def group(organisation_id: str, group_id: str) -> Group:
    """The organisation's group (archived ones included), or `NotFound` ."""
    row = Group.get_or_none((Group.id == group_id) & (Group.organisation == organisation_id))
    if row is None:
        raise NotFound(f"group {group_id} not found", resource="group", id=group_id)
    return row


def modifiable_group(organisation_id: str, group_id: str) -> Group:
    """The organisation's ACTIVE group, its row locked for this transaction; 409 `group_archived`
    for an archived one (archived groups are readable, never modifiable)."""
    row = group(organisation_id, group_id)
    lock_owner(GROUP, row.id)
    if row.status != ACTIVE:
        raise Conflict(f"group {group_id} is archived and cannot be modified", code="group_archived", id=group_id)
    return row


def create_group(organisation_id: str, name: str, members: list[Member], *, on_behalf_of: str | None = None) -> Group:
    """A new ACTIVE group with `members` (at least one, at least one ADMIN, each named once)."""
    _check_name(name)
    _check_members(members)
    if not any(member.role == ADMIN for member in members):
        raise LedgerRejected("a group needs at least one ADMIN member", code="admin_required")
    with write_transaction():
        _check_participants(organisation_id, [member.participant_id for member in members], on_behalf_of)
        row = Group.create(organisation=organisation_id, name=name, on_behalf_of_participant_id=on_behalf_of)
        now = utcnow()
        GroupMember.insert_many(
            [
                {
                    "group": row.id,
                    "participant": member.participant_id,
                    "role": member.role,
                    "status": ACTIVE,
                    "joined_at": now,
                    "on_behalf_of_participant_id": on_behalf_of,
                }
                for member in members
            ]
        ).execute()
        return row


def rename_group(organisation_id: str, group_id: str, name: str) -> Group:
    _check_name(name)
    with write_transaction():
        row = modifiable_group(organisation_id, group_id)
        row.name = name
        row.save()
        return row


def archive_group(organisation_id: str, group_id: str) -> Group:
    """Archive for good (there is no way back); archiving an archived group is `group_archived`.
    Its tier levels stay as they are, as its balances do: nothing of their lifecycle is scheduled
    any more (A259), and a level past its `expires_at` is still gone at read time."""
    with write_transaction():
        row = modifiable_group(organisation_id, group_id)
        row.status, row.deleted_at = ARCHIVED, utcnow()
        row.save()
        GroupTier.update(due_at=None).where(GroupTier.group == row.id).execute()
        GroupTierRollover.delete().where(GroupTierRollover.group == row.id).execute()
        return row


def add_members(organisation_id: str, group_id: str, members: list[Member], *, on_behalf_of: str | None = None) -> None:
    """Add participants, or re-add ones that LEFT (with their new role). All or nothing: one that
    is already an active member fails the request (`already_member`, naming it)."""
    _check_members(members)
    with write_transaction():
        row = modifiable_group(organisation_id, group_id)
        _check_participants(organisation_id, [member.participant_id for member in members], on_behalf_of)
        existing = {
            m.participant_id: m
            for m in GroupMember.select().where(
                (GroupMember.group == row.id) & GroupMember.participant.in_([m.participant_id for m in members])
            )
        }
        active = sorted(pid for pid, m in existing.items() if m.status == ACTIVE)
        if active:
            raise Conflict(
                f"participant {active[0]} is already an active member of group {row.id}",
                code="already_member",
                participant_id=active[0],
            )
        now = utcnow()
        for member in members:
            former = existing.get(member.participant_id)
            if former is None:
                GroupMember.create(
                    group=row.id,
                    participant=member.participant_id,
                    role=member.role,
                    status=ACTIVE,
                    joined_at=now,
                    on_behalf_of_participant_id=on_behalf_of,
                )
            else:
                former.role, former.status, former.joined_at, former.left_at = member.role, ACTIVE, now, None
                former.on_behalf_of_participant_id = on_behalf_of
                former.save()
        _touch(row)


def change_role(
    organisation_id: str, group_id: str, participant_id: str, role: str, *, on_behalf_of: str | None = None
) -> GroupMember:
    """Give an active member another role; demoting the last ADMIN is `last_admin`."""
    _check_role(role)
    with write_transaction():
        row = modifiable_group(organisation_id, group_id)
        _check_participants(organisation_id, [], on_behalf_of)
        member = _active_member(row, participant_id)
        if member.role == ADMIN and role != ADMIN:
            _keep_an_admin(row, participant_id, "demoted")
        member.role, member.on_behalf_of_participant_id = role, on_behalf_of
        member.save()
        _touch(row)
        return member


def remove_member(
    organisation_id: str, group_id: str, participant_id: str, *, on_behalf_of: str | None = None
) -> GroupMember:
    """Mark an active member LEFT (the row stays, for history and re-adding); the last ADMIN
    cannot be removed (`last_admin`). The group's balances are not touched."""
    with write_transaction():
        row = modifiable_group(organisation_id, group_id)
        _check_participants(organisation_id, [], on_behalf_of)
        member = _active_member(row, participant_id)
        if member.role == ADMIN:
            _keep_an_admin(row, participant_id, "removed")
        member.status, member.left_at, member.on_behalf_of_participant_id = LEFT, utcnow(), on_behalf_of
        member.save()
        _touch(row)
        return member


def named_group_id(organisation_id: str, event_data: dict[str, object]) -> str | None:
    """The id of the organisation's group an event names with `group_id` in its data (None: none)."""
    group_id = event_data.get("group_id")
    if not isinstance(group_id, str) or not group_id or len(group_id) > 36:
        return None
    found = Group.select(Group.id).where((Group.id == group_id) & (Group.organisation == organisation_id)).first()
    return None if found is None else found.id


def named_group(
    organisation_id: str, event_data: dict[str, object], program_id: str | None = None, as_of: datetime | None = None
) -> GroupState | None:
    """The group an event names with `group_id` in its data, as rules read it (`group` in CEL),
    with its levels in `program_id` live at `as_of` (A258); None when it names none, or an id the
    organisation has no group for (a rule targeting it then fails with `unknown_group`, as for any
    unknown id)."""
    group_id = event_data.get("group_id")
    if not isinstance(group_id, str) or not group_id or len(group_id) > 36:
        return None
    row = Group.get_or_none((Group.id == group_id) & (Group.organisation == organisation_id))
    if row is None:
        return None
    tags, counters, attributes = load_entity_state(GROUP, row.id)
    tiers = live_tiers(row.id, program_id, GROUP, as_of) if program_id is not None else {}
    return GroupState(
        id=row.id, name=row.name, status=row.status, tags=tags, counters=counters, attributes=attributes, tiers=tiers
    )


# --- internals ------------------------------------------------------------------------------------


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not 1 <= len(name) <= 255:
        raise LedgerRejected("name must be 1-255 characters", code="bad_request")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise LedgerRejected(f"role must be one of {ROLES}, got {role!r}", code="bad_request")


def _check_members(members: list[Member]) -> None:
    if not 1 <= len(members) <= MEMBERS_MAX:
        raise LedgerRejected(f"members must name 1-{MEMBERS_MAX} participants", code="bad_request")
    seen: set[str] = set()
    for member in members:
        _check_role(member.role)
        if member.participant_id in seen:
            raise LedgerRejected(
                f"participant {member.participant_id} is named twice", code="duplicate_member", id=member.participant_id
            )
        seen.add(member.participant_id)


def _check_participants(organisation_id: str, participant_ids: list[str], on_behalf_of: str | None) -> None:
    """Every named participant is the organisation's (404 naming the first missing
    one); so is `on_behalf_of`, when given."""
    wanted = set(participant_ids) | ({on_behalf_of} if on_behalf_of is not None else set())
    if not wanted:
        return
    found = {
        row.id
        for row in Participant.select(Participant.id).where(
            (Participant.organisation == organisation_id) & Participant.id.in_(sorted(wanted))
        )
    }
    missing = sorted(wanted - found)
    if missing:
        raise NotFound(f"participant {missing[0]} not found", resource="participant", id=missing[0])


def _active_member(row: Group, participant_id: str) -> GroupMember:
    member = GroupMember.get_or_none(
        (GroupMember.group == row.id) & (GroupMember.participant == participant_id) & (GroupMember.status == ACTIVE)
    )
    if member is None:
        raise NotFound(
            f"participant {participant_id} is not an active member of group {row.id}",
            participant_id=participant_id,
        )
    return member


def _keep_an_admin(row: Group, participant_id: str, change: str) -> None:
    """Refuse a change that would leave the group without an active ADMIN (the group's row is
    locked, so no concurrent change counts the same admins)."""
    others = (
        GroupMember.select()
        .where(
            (GroupMember.group == row.id)
            & (GroupMember.status == ACTIVE)
            & (GroupMember.role == ADMIN)
            & (GroupMember.participant != participant_id)
        )
        .count()
    )
    if others == 0:
        raise Conflict(
            f"participant {participant_id} is the group's last ADMIN and cannot be {change}",
            code="last_admin",
            participant_id=participant_id,
        )


def _touch(row: Group) -> None:
    row.save()  # updated_at: the membership changed
