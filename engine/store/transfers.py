"""Transfers: one party gives value of one asset to 1-100 others, atomically and zero-sum in one
journal entry, as one idempotent transaction.

    result, replayed = transfer(org.id, program_id=prog.id, asset_id="PTS", description="gift",
                                source=Party("PARTICIPANT", id=alice.id),
                                recipients=[(Party("PARTICIPANT", external_id="bob"), "25")])

Parties are typed as Scrip's request is (`source_participant_id`, `source_external_id`,
`source_group_id`; each recipient's `participant_id`, `external_id` or `group_id`). Every party
must be an ACTIVE participant or an ACTIVE group of the organisation (an archived group is
`group_archived`), the program ACTIVE and the asset linked to it; a group gives and receives from
its accounts in this program. The source never goes below zero and never pays itself
(`self_transfer`), and no recipient is named twice.
On a LOT asset the source's lots are spent in spending order and each recipient gets a new lot
earned now, with no expiry (D34).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from engine.store import groups, lookups
from engine.store.balance_ops import check_description
from engine.store.db import new_id, utcnow
from engine.store.errors import Conflict, LedgerRejected, NotFound
from engine.store.idempotency import run_once
from engine.store.ledger import spending
from engine.store.ledger.journal import Ledger, parse_amount
from engine.store.ledger.moves import Entity
from engine.store.models import GROUP, PARTICIPANT, Group, Participant, TransferRecord
from engine.store.spending_results import SpendingApplied, SpendingHook, TransferResult, transfer_of

RECIPIENTS_MAX = 100


class Party(NamedTuple):
    """A transfer's source or recipient as the request names it: a participant by `id` or
    `external_id`, or a group by `id`."""

    type: str  # PARTICIPANT | GROUP
    id: str | None = None
    external_id: str | None = None

    def key(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "external_id": self.external_id}


def transfer(
    organisation_id: str,
    *,
    program_id: str,
    asset_id: str,
    description: str,
    source: Party,
    recipients: list[tuple[Party, Any]],
    idempotency_key: str | None = None,
    api_key_id: str | None = None,
    on_applied: SpendingHook | None = None,
    now: datetime | None = None,
) -> tuple[TransferResult, bool]:
    """Move each recipient's amount from `source`, all in one entry; `replayed` as for redemptions."""
    check_description(description, required=True)
    if not 1 <= len(recipients) <= RECIPIENTS_MAX:
        raise LedgerRejected(f"a transfer has 1-{RECIPIENTS_MAX} recipients", code="bad_request", field="recipients")
    request = {"asset_id": asset_id, "description": description, "source": source.key(),
               "recipients": [[party.key(), _text(amount)] for party, amount in recipients]}  # fmt: skip

    def perform() -> TransferResult:
        ledger = Ledger(organisation_id)  # the ledger head first, as every writer
        program = lookups.program(organisation_id, program_id)
        if program.status != "ACTIVE":
            raise Conflict(f"program {program.id} is {program.status}", code="program_inactive", status=program.status)
        asset = lookups.linked_asset(organisation_id, program.id, asset_id)
        payer = _holder(organisation_id, source, "source", program.id)
        paid = [
            (_holder(organisation_id, party, "recipients", program.id), parse_amount(amount, asset))
            for party, amount in recipients
        ]
        _check_parties(payer, [holder for holder, _ in paid])
        transfer_id = new_id()
        entry = spending.transfer(
            ledger, asset, program.id, payer.entity, [(holder.entity, amount) for holder, amount in paid],
            as_of=now or utcnow(), description=description, created_by_api_key_id=api_key_id, reference_id=transfer_id,
        )  # fmt: skip
        ledger.finish()
        row = TransferRecord.create(
            id=transfer_id,
            organisation=organisation_id,
            program=program.id,
            asset=asset.id,
            source_type=payer.entity.type,
            source_id=payer.entity.id,
            recipients=[
                {"type": holder.entity.type, "id": holder.entity.id, "amount": format(amount, "f")}
                for holder, amount in paid
            ],
            recipient_count=len(paid),
            total_amount=sum((amount for _, amount in paid), Decimal(0)),
            description=description,
            journal_entry_id=entry.id,
            created_by_api_key_id=api_key_id,
        )
        result = transfer_of(row, asset)
        if on_applied is not None:
            person = payer.row if isinstance(payer.row, Participant) else None
            on_applied(SpendingApplied("TRANSFER", result, program, asset, person, tuple(ledger.settlements)))
        return result

    return run_once(organisation_id, program_id, "TRANSFER", idempotency_key, request, perform, TransferResult)


class Holder(NamedTuple):
    """A party found: its ledger entity (a group's scoped to the program) and its row."""

    entity: Entity
    row: Participant | Group


def _holder(organisation_id: str, party: Party, field: str, program_id: str) -> Holder:
    if party.type == GROUP:
        if party.id is None:
            raise LedgerRejected("a group party is named by its id", code="bad_request", field=field)
        group = groups.modifiable_group(organisation_id, party.id)  # ACTIVE, its row locked
        return Holder(Entity(GROUP, group.id, program_id), group)
    if party.type != PARTICIPANT:
        raise LedgerRejected(f"unknown party type {party.type!r}", code="unsupported_party", field=field)
    person = _participant(organisation_id, party, field)
    return Holder(Entity(PARTICIPANT, person.id), person)


def _participant(organisation_id: str, party: Party, field: str) -> Participant:
    if party.id is not None:
        return lookups.participant(organisation_id, party.id)
    person = Participant.get_or_none(
        (Participant.organisation == organisation_id) & (Participant.external_id == party.external_id)
    )
    if person is None:
        raise NotFound(f"participant {party.external_id!r} not found", resource="participant", field=field)
    return person


def _check_parties(payer: Holder, payees: list[Holder]) -> None:
    seen: set[tuple[str, str]] = set()
    source = (payer.entity.type, payer.entity.id)
    for holder in payees:
        party = (holder.entity.type, holder.entity.id)
        if party == source:
            raise LedgerRejected("a transfer's source cannot be one of its recipients", code="self_transfer")
        if party in seen:
            raise LedgerRejected(
                f"{party[0].lower()} {party[1]} is named twice among the recipients", code="duplicate_recipient"
            )
        seen.add(party)
    for holder in (payer, *payees):
        if isinstance(holder.row, Participant):  # groups were checked ACTIVE when found
            lookups.require_status(holder.row, ("ACTIVE",), "a transfer")


def _text(amount: Any) -> str:
    try:
        return format(Decimal(str(amount)).normalize(), "f")
    except ArithmeticError:
        return str(amount)


__all__ = ["Party", "transfer"]
