"""Transfers in storage: one zero-sum entry from the source to every recipient, or nothing; the
refusals (self transfer, a recipient twice, funds, inactive parties, archived groups), groups
as sources and recipients, and replays."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.store import groups
from engine.store import operations as ops
from engine.store.errors import Conflict, LedgerRejected, NotFound
from engine.store.ledger.verify import verify
from engine.store.models import Account, JournalEntry, Participant, Posting, TransferRecord
from engine.store.transfers import Party, transfer


def fund(world, amount="100"):
    ops.adjust_balance(
        world.org.id, world.alice.id, program_id=world.program.id, asset_id="PTS", type="CREDIT", amount=amount,
        description="earned",
    )  # fmt: skip


def balance(person) -> Decimal:
    row = Account.get_or_none(
        (Account.entity_type == "PARTICIPANT") & (Account.entity_id == person.id) & (Account.bucket == "AVAILABLE")
    )
    return Decimal(0) if row is None else Decimal(row.balance)


def send(world, recipients, *, source=None, **extra):
    return transfer(
        world.org.id, program_id=world.program.id, asset_id="PTS", description="gift",
        source=source or Party("PARTICIPANT", id=world.alice.id), recipients=recipients, **extra,
    )  # fmt: skip


def test_one_entry_pays_every_recipient_and_sums_to_zero(world):
    fund(world)
    carol = Participant.create(organisation=world.org, external_id="carol")
    result, replayed = send(
        world, [(Party("PARTICIPANT", id=world.bob.id), "12.5"), (Party("PARTICIPANT", external_id="carol"), 7)]
    )
    assert (replayed, result.total_amount, result.recipient_count, result.source_id) == (
        False,
        Decimal("19.50"),
        2,
        world.alice.id,
    )
    entry = JournalEntry.get_by_id(result.journal_entry_id)
    amounts = [Decimal(p.amount) for p in Posting.select().where(Posting.entry == entry)]
    assert entry.action_type == "TRANSFER" and len(amounts) == 3 and sum(amounts) == 0
    assert (balance(world.alice), balance(world.bob), balance(carol)) == (Decimal("80.50"), Decimal("12.50"), 7)
    assert verify().ok


@pytest.mark.parametrize(
    ("who", "code"),
    [("self", "self_transfer"), ("twice", "duplicate_recipient"), ("kind", "unsupported_party")],
)
def test_bad_parties_are_refused(world, who, code):
    fund(world)
    bob = Party("PARTICIPANT", id=world.bob.id)
    recipients = {
        "self": [(bob, 1), (Party("PARTICIPANT", external_id="alice"), 1)],
        "twice": [(bob, 1), (Party("PARTICIPANT", external_id="bob"), 1)],
        "kind": [(Party("PROGRAM", id=world.program.id), 1)],
    }[who]
    with pytest.raises(LedgerRejected) as raised:
        send(world, recipients)
    assert raised.value.code == code
    assert TransferRecord.select().count() == 0


def test_short_funds_inactive_recipients_and_unknown_ones_move_nothing(world):
    fund(world, "10")
    bob = Party("PARTICIPANT", id=world.bob.id)
    with pytest.raises(NotFound):
        send(world, [(bob, 5), (Party("PARTICIPANT", external_id="nobody"), 1)])
    with pytest.raises(LedgerRejected) as raised:
        send(world, [(bob, "10.01")])
    assert raised.value.code == "insufficient_funds"
    world.bob.status = "SUSPENDED"
    world.bob.save()
    with pytest.raises(Conflict) as inactive:
        send(world, [(bob, 1)])
    assert inactive.value.code == "participant_inactive"
    with pytest.raises(LedgerRejected) as raised:
        send(world, [])
    assert raised.value.details["field"] == "recipients"
    assert (balance(world.alice), balance(world.bob)) == (10, 0)


def test_a_key_replays_the_transfer_and_refuses_another_body(world):
    fund(world)
    bob = Party("PARTICIPANT", id=world.bob.id)
    first, _ = send(world, [(bob, "5")], idempotency_key="t1")
    again, replayed = send(world, [(bob, "5.00")], idempotency_key="t1")
    assert (replayed, again.id) == (True, first.id)
    with pytest.raises(Conflict) as raised:
        send(world, [(bob, "6")], idempotency_key="t1")
    assert raised.value.code == "idempotency_conflict"
    assert balance(world.bob) == 5


def test_groups_give_and_receive_from_their_balance_in_the_program(world):
    fund(world)
    household = groups.create_group(world.org.id, "Smiths", [groups.Member(world.alice.id, "ADMIN")])
    pooled, _ = send(world, [(Party("GROUP", id=household.id), "40")])
    assert pooled.recipients[0].type == "GROUP" and pooled.recipients[0].id == household.id
    bob = Party("PARTICIPANT", id=world.bob.id)
    paid, _ = send(world, [(bob, "15")], source=Party("GROUP", id=household.id))
    assert (paid.source_type, paid.source_id) == ("GROUP", household.id)
    pot = Account.get((Account.entity_type == "GROUP") & (Account.entity_id == household.id))
    assert (pot.program_scope, Decimal(pot.balance)) == (world.program.id, Decimal("25.00"))
    assert (balance(world.alice), balance(world.bob)) == (Decimal("60.00"), Decimal("15.00"))
    with pytest.raises(LedgerRejected) as raised:
        send(world, [(bob, "25.01")], source=Party("GROUP", id=household.id))
    assert raised.value.code == "insufficient_funds"
    with pytest.raises(LedgerRejected) as raised:
        send(world, [(Party("GROUP", id=household.id), 1)], source=Party("GROUP", id=household.id))
    assert raised.value.code == "self_transfer"
    assert verify().ok


def test_an_archived_or_unknown_group_neither_gives_nor_receives(world):
    fund(world)
    household = groups.create_group(world.org.id, "Smiths", [groups.Member(world.alice.id, "ADMIN")])
    groups.archive_group(world.org.id, household.id)
    with pytest.raises(Conflict) as raised:
        send(world, [(Party("GROUP", id=household.id), 1)])
    assert raised.value.code == "group_archived"
    with pytest.raises(NotFound):
        send(world, [(Party("GROUP", id=world.bob.id), 1)])
    assert TransferRecord.select().count() == 0
