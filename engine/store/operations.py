"""Direct balance operations the API exposes, each one transaction.

    adjust_balance(org, participant_id, program_id=, asset_id=, type=, amount=, description=, ...)
    hold / release / forfeit(org, participant_id, program_id=, asset_id=, description=, amount=None, ...)
    fund_program / burn_program(org, program_id, asset_id=, amount=, description=None, ...)

Each returns the Struct the API answers with (amounts are `Decimal`; msgspec encodes them as
decimal strings). hold, release and forfeit take an `idempotency_key`: the same key and request
answers the stored result again, the same key with another request raises `Conflict`
(`idempotency_conflict`). adjust has no key, as in Scrip's API.

Each takes an optional `on_applied(Applied)` hook, called inside the operation's transaction once
the change is written (never for an idempotent replay, and a failure after it rolls the change
back with whatever the hook wrote): callers record what the change reports (webhook events) in the
same transaction without the store knowing about them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

import msgspec

from engine.model.state import Balance
from engine.store import lookups
from engine.store.db import unique_insert, write_transaction
from engine.store.errors import Conflict, Duplicate, LedgerRejected
from engine.store.ledger import movements
from engine.store.ledger.accounts import balances_of
from engine.store.ledger.journal import Ledger, parse_amount
from engine.store.ledger.movements import Entity
from engine.store.models import AVAILABLE, HELD, PARTICIPANT, PROGRAM, Asset, IdempotencyRecord, Participant, Program

DESCRIPTION_MAX = 500


class AdjustResult(msgspec.Struct, kw_only=True):
    amount: Decimal
    asset_id: str
    balance: Balance
    bucket: str
    journal_entry_id: str
    message: str
    program_id: str
    type: str


class BalanceOpResult(msgspec.Struct, kw_only=True):
    amount_processed: Decimal
    asset_id: str
    balance: Balance
    journal_entry_id: str
    message: str
    operation: str
    program_id: str
    reference_id: str | None = None


class WalletResult(msgspec.Struct, kw_only=True):
    available: Decimal
    asset_id: str
    journal_entry_id: str
    message: str
    program_id: str


class Applied(NamedTuple):
    """What one direct operation changed, as its `on_applied` hook sees it (inside the transaction).

    `operation` is CREDIT, DEBIT, HOLD, RELEASE, FORFEIT, FUND or BURN; `bucket` is the bucket the
    value landed in (CREDIT, HOLD, RELEASE) or left (DEBIT, FORFEIT); None for the program wallet.
    Example: `Applied("HOLD", result, program, asset, Decimal("30"), "HELD", person, "order", None)`.
    """

    operation: str
    result: AdjustResult | BalanceOpResult | WalletResult
    program: Program
    asset: Asset
    amount: Decimal
    bucket: str | None
    participant: Participant | None
    description: str | None
    reference_id: str | None = None


AppliedHook = Callable[[Applied], None]


def adjust_balance(
    organisation_id: str,
    participant_id: str,
    *,
    program_id: str,
    asset_id: str,
    type: str,
    amount: Any,
    description: str,
    allow_negative: bool = False,
    bucket: str = AVAILABLE,
    api_key_id: str | None = None,
    on_applied: AppliedHook | None = None,
) -> AdjustResult:
    """CREDIT or DEBIT a participant's bucket directly.

    >>> adjust_balance(org.id, p.id, program_id=prog.id, asset_id="PTS", type="CREDIT",
    ...                amount="10", description="goodwill").balance.available
    Decimal('10.00')
    """
    if type not in ("CREDIT", "DEBIT"):
        raise LedgerRejected(f"type must be CREDIT or DEBIT, got {type!r}", code="bad_request")
    if bucket not in (AVAILABLE, HELD):
        raise LedgerRejected(f"bucket must be AVAILABLE or HELD, got {bucket!r}", code="bad_request")
    _check_description(description, required=True)
    with write_transaction():
        person, program, asset = _subjects(organisation_id, participant_id, program_id, asset_id, ("ACTIVE",), type)
        value = parse_amount(amount, asset)
        ledger = Ledger(organisation_id)
        entity = Entity(PARTICIPANT, person.id)
        fields = {"description": description, "created_by_api_key_id": api_key_id}
        if type == "CREDIT":
            entry = movements.credit(ledger, asset, program.id, entity, value, bucket, **fields)
        else:
            entry = movements.debit(ledger, asset, program.id, entity, value, bucket, allow_negative, **fields)
        ledger.finish()
        result = AdjustResult(
            amount=value,
            asset_id=asset.id,
            balance=_balance(entity, asset),
            bucket=bucket,
            journal_entry_id=entry.id,
            message="Balance adjusted successfully",
            program_id=program.id,
            type=type,
        )
        if on_applied is not None:
            on_applied(Applied(type, result, program, asset, value, bucket, person, description))
        return result


def hold(organisation_id: str, participant_id: str, **request: Any) -> BalanceOpResult:
    """Move AVAILABLE to HELD (the whole AVAILABLE balance when `amount` is omitted)."""
    return _balance_op("HOLD", organisation_id, participant_id, ("ACTIVE",), **request)


def release(organisation_id: str, participant_id: str, **request: Any) -> BalanceOpResult:
    """Move HELD back to AVAILABLE (the whole HELD balance when `amount` is omitted)."""
    return _balance_op("RELEASE", organisation_id, participant_id, ("ACTIVE",), **request)


def forfeit(organisation_id: str, participant_id: str, **request: Any) -> BalanceOpResult:
    """Move a bucket's value to SYSTEM_BREAKAGE; allowed on CLOSED participants too."""
    return _balance_op("FORFEIT", organisation_id, participant_id, ("ACTIVE", "CLOSED"), **request)


def fund_program(
    organisation_id: str,
    program_id: str,
    *,
    asset_id: str,
    amount: Any,
    description: str | None = None,
    api_key_id: str | None = None,
    on_applied: AppliedHook | None = None,
) -> WalletResult:
    """Add value of a PREFUNDED asset to the program wallet (from SYSTEM_ISSUANCE)."""
    return _wallet_op("FUND", organisation_id, program_id, asset_id, amount, description, api_key_id, on_applied)


def burn_program(
    organisation_id: str,
    program_id: str,
    *,
    asset_id: str,
    amount: Any,
    description: str | None = None,
    api_key_id: str | None = None,
    on_applied: AppliedHook | None = None,
) -> WalletResult:
    """Remove value from the program wallet (to SYSTEM_BREAKAGE); cannot exceed the wallet."""
    return _wallet_op("BURN", organisation_id, program_id, asset_id, amount, description, api_key_id, on_applied)


# --- internals ------------------------------------------------------------------------------------


def _balance_op(
    operation: str,
    organisation_id: str,
    participant_id: str,
    statuses: tuple[str, ...],
    *,
    program_id: str,
    asset_id: str,
    description: str,
    amount: Any = None,
    bucket: str | None = None,
    reference_id: str | None = None,
    idempotency_key: str | None = None,
    api_key_id: str | None = None,
    on_applied: AppliedHook | None = None,
) -> BalanceOpResult:
    _check_description(description, required=True)
    source_bucket = _source_bucket(operation, bucket)
    request = {
        "participant_id": participant_id,
        "asset_id": asset_id,
        "description": description,
        "amount": None if amount is None else str(amount),
        "bucket": bucket,
        "reference_id": reference_id,
    }

    def perform() -> BalanceOpResult:
        person, program, asset = _subjects(organisation_id, participant_id, program_id, asset_id, statuses, operation)
        ledger = Ledger(organisation_id)
        entity = Entity(PARTICIPANT, person.id)
        if amount is None:
            value = ledger.accounts.get(PARTICIPANT, person.id, asset, source_bucket).balance
            if value <= 0:
                raise LedgerRejected(
                    f"nothing to {operation.lower()}: the {source_bucket} balance is {value}", code="insufficient_funds"
                )
        else:
            value = parse_amount(amount, asset)
        fields = {"description": description, "reference_id": reference_id, "created_by_api_key_id": api_key_id}
        if operation == "FORFEIT":
            entry = movements.forfeit(ledger, asset, program.id, entity, value, source_bucket, **fields)
        else:
            entry = getattr(movements, operation.lower())(ledger, asset, program.id, entity, value, **fields)
        ledger.finish()
        result = BalanceOpResult(
            amount_processed=value,
            asset_id=asset.id,
            balance=_balance(entity, asset),
            journal_entry_id=entry.id,
            message=f"Processed {value}",
            operation=operation,
            program_id=program.id,
            reference_id=reference_id,
        )
        if on_applied is not None:
            landed = {"HOLD": HELD, "RELEASE": AVAILABLE}.get(operation, source_bucket)
            on_applied(Applied(operation, result, program, asset, value, landed, person, description, reference_id))
        return result

    return _idempotent(organisation_id, program_id, operation, idempotency_key, request, perform, BalanceOpResult)


def _source_bucket(operation: str, bucket: str | None) -> str:
    """The bucket a balance operation takes from: HOLD from AVAILABLE, RELEASE from HELD, FORFEIT
    from the one named (AVAILABLE or HELD)."""
    if operation == "HOLD":
        return AVAILABLE
    if operation == "RELEASE":
        return HELD
    if bucket is None or bucket not in (AVAILABLE, HELD):
        raise LedgerRejected("forfeit needs bucket AVAILABLE or HELD", code="bad_request")
    return bucket


def _idempotent(
    organisation_id: str,
    program_id: str,
    operation: str,
    key: str | None,
    request: dict,
    perform: Callable[[], msgspec.Struct],
    result_type: type,
) -> Any:
    """Run `perform` in one transaction, recording its answer under `key` (when given)."""
    request_hash = hashlib.sha256(msgspec.json.encode(request, order="sorted")).hexdigest()
    for attempt in (1, 2):
        try:
            with write_transaction():
                if key is not None:
                    lookups.program(organisation_id, program_id)
                    stored = _stored_answer(program_id, operation, key, request_hash, result_type)
                    if stored is not None:
                        return stored
                result = perform()
                if key is not None:
                    with unique_insert():
                        IdempotencyRecord.create(
                            organisation=organisation_id,
                            program=program_id,
                            operation=operation,
                            idempotency_key=key,
                            request_hash=request_hash,
                            response=msgspec.to_builtins(result),
                        )
                return result
        except Duplicate as exc:
            if key is None or attempt == 2:
                raise Conflict(
                    f"{operation.lower()} conflicted with a concurrent write; retry", code="conflict"
                ) from exc
            # A concurrent request with the same key committed first: answer with its result.
    raise AssertionError("unreachable")  # pragma: no cover


def _stored_answer(program_id, operation, key, request_hash, result_type):
    record = IdempotencyRecord.get_or_none(
        (IdempotencyRecord.program == program_id)
        & (IdempotencyRecord.operation == operation)
        & (IdempotencyRecord.idempotency_key == key)
    )
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise Conflict(f"idempotency key {key!r} was used with a different request", code="idempotency_conflict")
    return msgspec.convert(record.response, result_type, strict=False)


def _wallet_op(
    operation, organisation_id, program_id, asset_id, amount, description, api_key_id, on_applied: AppliedHook | None
) -> WalletResult:
    _check_description(description, required=False)
    with write_transaction():
        program = lookups.program(organisation_id, program_id)
        asset = lookups.linked_asset(organisation_id, program.id, asset_id)
        value = parse_amount(amount, asset)
        ledger = Ledger(organisation_id)
        step = movements.fund if operation == "FUND" else movements.burn
        entry = step(ledger, asset, program.id, value, description=description, created_by_api_key_id=api_key_id)
        ledger.finish()
        wallet = _balance(Entity(PROGRAM, program.id), asset)
        verb = "funded" if operation == "FUND" else "burned"
        result = WalletResult(
            available=wallet.available,
            asset_id=asset.id,
            journal_entry_id=entry.id,
            message=f"Program {verb} successfully",
            program_id=program.id,
        )
        if on_applied is not None:
            on_applied(Applied(operation, result, program, asset, value, None, None, description))
        return result


def _subjects(organisation_id, participant_id, program_id, asset_ref, statuses, action):
    person = lookups.participant(organisation_id, participant_id)
    program = lookups.program(organisation_id, program_id)
    asset = lookups.linked_asset(organisation_id, program.id, asset_ref)
    lookups.require_status(person, statuses, action)
    return person, program, asset


def _balance(entity: Entity, asset: Asset) -> Balance:
    return balances_of(entity.type, entity.id, [asset.id], entity.scope).get(asset.id, Balance())


def _check_description(description: str | None, *, required: bool) -> None:
    if description is None and not required:
        return
    if not isinstance(description, str) or not 1 <= len(description) <= DESCRIPTION_MAX:
        raise LedgerRejected(f"description must be 1-{DESCRIPTION_MAX} characters", code="bad_request")
