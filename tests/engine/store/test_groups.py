"""Groups and their membership (`engine.store.groups`), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from engine.store import groups
from engine.store.errors import Conflict, LedgerRejected, NotFound
from engine.store.groups import ADMIN, MEMBER, Member
from engine.store.models import GroupMember, Organisation, Participant


def household(world, *more):
    return groups.create_group(world.org.id, "Smith household", [Member(world.alice.id, ADMIN), *more])


def members(group):
    rows = GroupMember.select().where(GroupMember.group == group.id).order_by(GroupMember.id)
    return [(row.participant_id, row.role, row.status) for row in rows]


def test_a_group_is_created_with_its_members_and_who_asked(world):
    group = groups.create_group(
        world.org.id, "Smiths", [Member(world.alice.id, ADMIN), Member(world.bob.id)], on_behalf_of=world.alice.id
    )
    assert group.status == "ACTIVE" and group.name == "Smiths" and group.on_behalf_of_participant_id == world.alice.id
    assert members(group) == [(world.alice.id, ADMIN, "ACTIVE"), (world.bob.id, MEMBER, "ACTIVE")]


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda w: [], "bad_request"),
        (lambda w: [Member(w.alice.id)], "admin_required"),
        (lambda w: [Member(w.alice.id, ADMIN), Member(w.alice.id)], "duplicate_member"),
        (lambda w: [Member(w.alice.id, "OWNER")], "bad_request"),
    ],
)
def test_creating_a_group_needs_members_and_an_admin(world, make, code):
    with pytest.raises(LedgerRejected) as info:
        groups.create_group(world.org.id, "G", make(world))
    assert info.value.code == code


def test_participants_of_another_organisation_are_not_found(world):
    other = Organisation.create(name="globex")
    stranger = Participant.create(organisation=other, external_id="x")
    with pytest.raises(NotFound):
        groups.create_group(world.org.id, "G", [Member(stranger.id, ADMIN)])
    group = household(world)
    with pytest.raises(NotFound):
        groups.add_members(world.org.id, group.id, [Member(stranger.id)])
    with pytest.raises(NotFound):
        groups.group(other.id, group.id)
    with pytest.raises(NotFound):
        groups.change_role(world.org.id, group.id, world.alice.id, ADMIN, on_behalf_of=stranger.id)


def test_the_last_admin_can_be_neither_demoted_nor_removed(world):
    group = household(world, Member(world.bob.id))
    for change in (
        lambda: groups.change_role(world.org.id, group.id, world.alice.id, MEMBER),
        lambda: groups.remove_member(world.org.id, group.id, world.alice.id),
    ):
        with pytest.raises(Conflict) as info:
            change()
        assert info.value.code == "last_admin"
    groups.change_role(world.org.id, group.id, world.bob.id, ADMIN)
    groups.change_role(world.org.id, group.id, world.alice.id, MEMBER)
    assert members(group) == [(world.alice.id, MEMBER, "ACTIVE"), (world.bob.id, ADMIN, "ACTIVE")]


def test_a_removed_member_is_left_and_can_be_added_again_with_a_new_role(world):
    group = household(world, Member(world.bob.id))
    left = groups.remove_member(world.org.id, group.id, world.bob.id, on_behalf_of=world.alice.id)
    assert left.status == "LEFT" and left.left_at is not None and left.on_behalf_of_participant_id == world.alice.id
    with pytest.raises(NotFound):
        groups.remove_member(world.org.id, group.id, world.bob.id)
    with pytest.raises(NotFound):
        groups.change_role(world.org.id, group.id, world.bob.id, ADMIN)
    groups.add_members(world.org.id, group.id, [Member(world.bob.id, ADMIN)])
    row = GroupMember.get(GroupMember.participant == world.bob.id)
    assert (row.status, row.role, row.left_at) == ("ACTIVE", ADMIN, None)


def test_adding_an_active_member_fails_the_whole_request(world):
    carol = Participant.create(organisation=world.org, external_id="carol")
    group = household(world)
    with pytest.raises(Conflict) as info:
        groups.add_members(world.org.id, group.id, [Member(carol.id), Member(world.alice.id)])
    assert info.value.code == "already_member" and info.value.details["participant_id"] == world.alice.id
    assert members(group) == [(world.alice.id, ADMIN, "ACTIVE")]  # carol was not added either


def test_an_archived_group_is_readable_and_never_modified_again(world):
    group = household(world, Member(world.bob.id))
    archived = groups.archive_group(world.org.id, group.id)
    assert archived.status == "ARCHIVED" and archived.deleted_at is not None
    assert groups.group(world.org.id, group.id).status == "ARCHIVED"
    for change in (
        lambda: groups.archive_group(world.org.id, group.id),
        lambda: groups.rename_group(world.org.id, group.id, "New"),
        lambda: groups.add_members(world.org.id, group.id, [Member(world.bob.id)]),
        lambda: groups.change_role(world.org.id, group.id, world.bob.id, ADMIN),
        lambda: groups.remove_member(world.org.id, group.id, world.bob.id),
    ):
        with pytest.raises(Conflict) as info:
            change()
        assert info.value.code == "group_archived"


def test_rename_checks_the_name(world):
    group = household(world)
    assert groups.rename_group(world.org.id, group.id, "Jones").name == "Jones"
    with pytest.raises(LedgerRejected):
        groups.rename_group(world.org.id, group.id, "")
