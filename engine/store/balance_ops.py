"""Hold, release, forfeit and void-hold of a participant's or a group's balance, as the API asks
for them (shared request body: amount, bucket, reference_id, lot_ids, earned_from, earned_to,
idempotency_key), each one idempotent transaction.

The owner is a parameter: `owner_type` PARTICIPANT (the default; accounts are organisation-wide)
or GROUP (accounts per program, `Entity(GROUP, id, program_id)`); `subjects` finds and checks it.
A group must be ACTIVE (an archived one is readable, not modifiable: `group_archived`), and held
group funds cannot be forfeited until released (Scrip's group model).

Without an amount an operation takes the whole bucket, or what the reference holds; on LOT assets
every lot the selection admits (Scrip's release matrix): no amount and a reference releases all
held lots of that reference, an amount and a reference up to it from those lots, an amount alone
from any held lots in spending order. Void-hold cancels the provisional accrual of a reference
(LOT assets) and is allowed whatever the participant's status.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

import msgspec

from engine.model.lots import LotFilter, LotStatus
from engine.model.state import Balance
from engine.store import groups, lookups
from engine.store.db import utcnow
from engine.store.errors import LedgerRejected
from engine.store.idempotency import idempotent
from engine.store.ledger import held, movements
from engine.store.ledger.accounts import balances_of
from engine.store.ledger.journal import Ledger, parse_amount
from engine.store.ledger.movements import Entity
from engine.store.models import AVAILABLE, GROUP, HELD, PARTICIPANT, Asset, Group, JournalEntry, Participant, Program
from engine.store.results import Applied, AppliedHook, BalanceOpResult, LotProcessed

DESCRIPTION_MAX = 500


def hold(organisation_id: str, owner_id: str, **request: Any) -> BalanceOpResult:
    """Move AVAILABLE to HELD (the whole AVAILABLE balance when `amount` is omitted)."""
    return _balance_op("HOLD", organisation_id, owner_id, ("ACTIVE",), **request)


def release(organisation_id: str, owner_id: str, **request: Any) -> BalanceOpResult:
    """Move HELD back to AVAILABLE (the whole HELD balance when `amount` is omitted)."""
    return _balance_op("RELEASE", organisation_id, owner_id, ("ACTIVE",), **request)


def forfeit(organisation_id: str, owner_id: str, **request: Any) -> BalanceOpResult:
    """Move a bucket's value to SYSTEM_BREAKAGE; allowed on CLOSED participants too. A group
    forfeits AVAILABLE only: its held funds wait for their release."""
    return _balance_op("FORFEIT", organisation_id, owner_id, ("ACTIVE", "CLOSED"), **request)


def void_hold(organisation_id: str, owner_id: str, **request: Any) -> BalanceOpResult:
    """Cancel the provisional accrual held under `reference_id` (LOT assets): the lots credited
    straight into HELD return their value to its source. Allowed whatever the participant's
    status (D22 does not block it)."""
    return _balance_op("VOID_HOLD", organisation_id, owner_id, ("ACTIVE", "SUSPENDED", "CLOSED"), **request)


def _balance_op(
    operation: str,
    organisation_id: str,
    owner_id: str,
    statuses: tuple[str, ...],
    *,
    owner_type: str = PARTICIPANT,
    program_id: str,
    asset_id: str,
    description: str,
    amount: Any = None,
    bucket: str | None = None,
    reference_id: str | None = None,
    lot_ids: list[str] | None = None,
    earned_from: datetime | None = None,
    earned_to: datetime | None = None,
    idempotency_key: str | None = None,
    api_key_id: str | None = None,
    on_applied: AppliedHook | None = None,
    now: datetime | None = None,
) -> BalanceOpResult:
    check_description(description, required=True)
    source_bucket = _source_bucket(operation, bucket)
    if owner_type == GROUP and operation == "FORFEIT" and source_bucket == HELD:
        raise LedgerRejected("held group funds cannot be forfeited until they are released", code="bad_request")
    if earned_from is not None and earned_to is not None and earned_to < earned_from:
        raise LedgerRejected("earned_to must not be before earned_from", code="bad_request")
    choice = Selection(reference_id, lot_ids, earned_from, earned_to)
    request = {
        "participant_id" if owner_type == PARTICIPANT else "group_id": owner_id,
        "asset_id": asset_id,
        "description": description,
        "amount": None if amount is None else str(amount),
        "bucket": bucket,
        "reference_id": reference_id,
        "lot_ids": sorted(lot_ids) if lot_ids else None,
        "earned_from": earned_from.isoformat() if earned_from else None,
        "earned_to": earned_to.isoformat() if earned_to else None,
    }

    def perform() -> BalanceOpResult:
        ledger = Ledger(organisation_id)  # the ledger head first, as every writer (then a group's row)
        owner, program, asset, entity = subjects(
            organisation_id, owner_type, owner_id, program_id, asset_id, statuses, operation
        )
        as_of = now or utcnow()
        fields: dict[str, Any] = {
            "description": description,
            "reference_id": reference_id,
            "created_by_api_key_id": api_key_id,
        }
        entry = _perform(operation, ledger, program, asset, entity, source_bucket, amount, choice, as_of, fields)
        ledger.finish()
        value = entry_amount(ledger, entry)
        processed = ledger.lots.processed.get(entry.id)
        result = BalanceOpResult(
            amount_processed=value,
            asset_id=asset.id,
            balance=balance_of(entity, asset),
            journal_entry_id=entry.id,
            message=f"Processed {value}",
            operation=operation,
            program_id=program.id,
            reference_id=reference_id,
            lots_processed=[LotProcessed(id=take.lot_id, amount=take.amount) for take in processed or []]
            if movements.holds_lots(asset, entity)
            else msgspec.UNSET,
        )
        if on_applied is not None:
            landed = {"HOLD": HELD, "RELEASE": AVAILABLE}.get(operation, source_bucket)
            on_applied(
                Applied(
                    operation,
                    result,
                    program,
                    asset,
                    value,
                    landed,
                    owner if isinstance(owner, Participant) else None,
                    description,
                    reference_id,
                    tuple(ledger.settlements),
                    owner if isinstance(owner, Group) else None,
                )
            )
        return result

    return idempotent(organisation_id, program_id, operation, idempotency_key, request, perform, BalanceOpResult)


class Selection(NamedTuple):
    """Which value a balance operation takes: a hold's reference, and on LOT assets the lots."""

    reference_id: str | None
    lot_ids: list[str] | None
    earned_from: datetime | None
    earned_to: datetime | None

    def lots(self, *, by_reference: bool) -> LotFilter:
        return LotFilter(
            lot_ids=frozenset(self.lot_ids) if self.lot_ids else None,
            earned_from=self.earned_from,
            earned_to=self.earned_to,
            reference_id=self.reference_id if by_reference else None,
        )

    def names_lots(self) -> bool:
        return bool(self.lot_ids) or self.earned_from is not None or self.earned_to is not None


def _perform(operation, ledger, program, asset, entity, source_bucket, amount, choice, as_of, fields):
    """One balance operation's movement. Without an amount: the whole bucket, or (by reference)
    what the reference holds, or on LOT assets every lot the selection admits (Scrip's release
    matrix)."""
    lots = movements.holds_lots(asset, entity)
    if choice.names_lots() and not lots:
        raise LedgerRejected("lot_ids, earned_from and earned_to need a LOT asset", code="bad_request")
    if operation == "VOID_HOLD":
        if not lots:
            raise LedgerRejected(f"void-hold needs a LOT asset; {asset.symbol} is SIMPLE", code="bad_request")
        return movements.void_hold(ledger, asset, program.id, entity, None, as_of=as_of, **fields)
    only = choice.lots(by_reference=operation != "HOLD")
    value = parse_amount(amount, asset) if amount is not None else None
    if value is None and not (lots and operation == "RELEASE"):
        value = _whole(ledger, asset, entity, source_bucket, choice.reference_id, only, as_of, lots)
    if operation == "HOLD":
        return movements.hold(ledger, asset, program.id, entity, value, as_of=as_of, only=only, **fields)
    if operation == "RELEASE":
        return movements.release(ledger, asset, program.id, entity, value, as_of=as_of, only=only, **fields)
    return movements.forfeit(ledger, asset, program.id, entity, value, source_bucket, as_of=as_of, only=only, **fields)


def _whole(ledger, asset, entity, bucket, reference_id, only, as_of, lots) -> Decimal:
    """What an operation without an amount takes."""
    if lots:
        value = ledger.lots.pile(entity, asset).total(LotStatus(bucket), as_of, only)
    elif reference_id is not None and bucket == HELD:
        account = ledger.accounts.get(entity.type, entity.id, asset, HELD, entity.scope)
        value = held.amount_held(account.id, reference_id)
    else:
        value = ledger.accounts.get(entity.type, entity.id, asset, bucket, entity.scope).balance
    if value <= 0:
        what = f"held under reference {reference_id!r}" if reference_id is not None and bucket == HELD else bucket
        raise LedgerRejected(f"nothing to take: {asset.symbol} {what} is {value}", code="insufficient_funds")
    return value


def entry_amount(ledger: Ledger, entry: JournalEntry) -> Decimal:
    """The amount an entry moved (its positive posting)."""
    return ledger.amount_of(entry.id)


def _source_bucket(operation: str, bucket: str | None) -> str:
    """The bucket a balance operation takes from: HOLD from AVAILABLE, RELEASE from HELD, FORFEIT
    from the one named (AVAILABLE or HELD)."""
    if operation == "HOLD":
        return AVAILABLE
    if operation in ("RELEASE", "VOID_HOLD"):
        return HELD
    if bucket is None or bucket not in (AVAILABLE, HELD):
        raise LedgerRejected("forfeit needs bucket AVAILABLE or HELD", code="bad_request")
    return bucket


def subjects(
    organisation_id: str,
    owner_type: str,
    owner_id: str,
    program_id: str,
    asset_ref: str,
    statuses: tuple[str, ...],
    action: str,
) -> tuple[Participant | Group, Program, Asset, Entity]:
    """The owner of the balance (a participant in one of `statuses`, or an ACTIVE group, whose
    row is locked), the program, the linked asset, and the owner's ledger entity. Call it after
    the transaction's `Ledger` took the ledger head: every writer locks the head before owners,
    so a group's row lock never waits in the opposite order to an event's (a deadlock)."""
    if owner_type not in (PARTICIPANT, GROUP):  # pragma: no cover - callers pass the constants
        raise ValueError(f"owner_type must be PARTICIPANT or GROUP, got {owner_type!r}")
    owner: Participant | Group
    if owner_type == GROUP:
        owner = groups.group(organisation_id, owner_id)
    else:
        owner = lookups.participant(organisation_id, owner_id)
    program = lookups.program(organisation_id, program_id)
    asset = lookups.linked_asset(organisation_id, program.id, asset_ref)
    if isinstance(owner, Participant):
        lookups.require_status(owner, statuses, action)
        return owner, program, asset, Entity(PARTICIPANT, owner.id)
    groups.modifiable_group(organisation_id, owner.id)
    return owner, program, asset, Entity(GROUP, owner.id, program.id)


def balance_of(entity: Entity, asset: Asset) -> Balance:
    return balances_of(entity.type, entity.id, [asset.id], entity.scope).get(asset.id, Balance())


def check_description(description: str | None, *, required: bool) -> None:
    if description is None and not required:
        return
    if not isinstance(description, str) or not 1 <= len(description) <= DESCRIPTION_MAX:
        raise LedgerRejected(f"description must be 1-{DESCRIPTION_MAX} characters", code="bad_request")
