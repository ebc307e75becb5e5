"""Transfers: one party gives value of one asset to 1-100 others, atomically and zero-sum in one
journal entry, as one idempotent transaction.

    result, replayed = transfer(org.id, program_id=prog.id, asset_id="PTS", description="gift",
                                source=Party("PARTICIPANT", id=alice.id),
                                recipients=[(Party("PARTICIPANT", external_id="bob"), "25")])

Parties are typed as Scrip's request is (`source_participant_id`, `source_external_id`,
`source_group_id`; each recipient's `participant_id`, `external_id` or `group_id`), so groups join
when they exist; until then a group party is refused (`unsupported_party`). Every party must be an
ACTIVE participant of the organisation, the program ACTIVE and the asset linked to it; the source
never goes below zero and never pays itself (`self_transfer`), and no recipient is named twice.
On a LOT asset the source's lots are spent in spending order and each recipient gets a new lot
earned now, with no expiry (D34).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from engine.store import lookups
from engine.store.balance_ops import check_description
from engine.store.db import new_id, utcnow
from engine.store.errors import Conflict, LedgerRejected, NotFound
from engine.store.idempotency import run_once
from engine.store.ledger import spending
from engine.store.ledger.journal import Ledger, parse_amount
from engine.store.ledger.moves import Entity
from engine.store.models import PARTICIPANT, Participant, TransferRecord
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
        payer = _participant(organisation_id, source, "source")
        paid = [
            (_participant(organisation_id, party, "recipients"), parse_amount(amount, asset))
            for party, amount in recipients
        ]
        _check_parties(payer, [person for person, _ in paid])
        transfer_id = new_id()
        entry = spending.transfer(
            ledger, asset, program.id, Entity(PARTICIPANT, payer.id),
            [(Entity(PARTICIPANT, person.id), amount) for person, amount in paid],
            as_of=now or utcnow(), description=description, created_by_api_key_id=api_key_id, reference_id=transfer_id,
        )  # fmt: skip
        ledger.finish()
        row = TransferRecord.create(
            id=transfer_id,
            organisation=organisation_id,
            program=program.id,
            asset=asset.id,
            source_type=PARTICIPANT,
            source_id=payer.id,
            recipients=[
                {"type": PARTICIPANT, "id": person.id, "amount": format(amount, "f")} for person, amount in paid
            ],
            recipient_count=len(paid),
            total_amount=sum((amount for _, amount in paid), Decimal(0)),
            description=description,
            journal_entry_id=entry.id,
            created_by_api_key_id=api_key_id,
        )
        result = transfer_of(row, asset)
        if on_applied is not None:
            on_applied(SpendingApplied("TRANSFER", result, program, asset, payer, tuple(ledger.settlements)))
        return result

    return run_once(organisation_id, program_id, "TRANSFER", idempotency_key, request, perform, TransferResult)


def _participant(organisation_id: str, party: Party, field: str) -> Participant:
    if party.type != PARTICIPANT:
        raise LedgerRejected(
            f"{party.type.lower()} parties cannot send or receive transfers: groups do not exist yet",
            code="unsupported_party",
            field=field,
        )
    if party.id is not None:
        return lookups.participant(organisation_id, party.id)
    person = Participant.get_or_none(
        (Participant.organisation == organisation_id) & (Participant.external_id == party.external_id)
    )
    if person is None:
        raise NotFound(f"participant {party.external_id!r} not found", resource="participant", field=field)
    return person


def _check_parties(payer: Participant, payees: list[Participant]) -> None:
    seen: set[str] = set()
    for person in payees:
        if person.id == payer.id:
            raise LedgerRejected("a transfer's source cannot be one of its recipients", code="self_transfer")
        if person.id in seen:
            raise LedgerRejected(
                f"participant {person.id} is named twice among the recipients", code="duplicate_recipient"
            )
        seen.add(person.id)
    for person in (payer, *payees):
        lookups.require_status(person, ("ACTIVE",), "a transfer")


def _text(amount: Any) -> str:
    try:
        return format(Decimal(str(amount)).normalize(), "f")
    except ArithmeticError:
        return str(amount)


__all__ = ["Party", "transfer"]
