"""Direct balance operations the API exposes, each one transaction.

    adjust_balance(org, owner_id, program_id=, asset_id=, type=, amount=, description=, ...)
    hold / release / forfeit / void_hold(org, owner_id, program_id=, asset_id=, description=, amount=None,
                                         reference_id=, lot_ids=, earned_from=, earned_to=, ...)
    fund_program / burn_program(org, program_id, asset_id=, amount=, description=None, ...)

The owner of a balance is a participant, or with `owner_type=GROUP` a group (whose balances are
kept per program): `hold(org, group.id, owner_type=GROUP, program_id=..., ...)`.

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

from typing import Any

from engine.store import lookups
from engine.store.balance_ops import (  # noqa: F401 - the API's entry points
    DESCRIPTION_MAX,
    balance_of,
    check_description,
    forfeit,
    hold,
    release,
    subjects,
    void_hold,
)
from engine.store.db import write_transaction
from engine.store.errors import LedgerRejected
from engine.store.ledger import movements
from engine.store.ledger.journal import Ledger, parse_amount
from engine.store.ledger.movements import Entity
from engine.store.models import AVAILABLE, GROUP, HELD, PARTICIPANT, PROGRAM, Participant
from engine.store.results import (  # noqa: F401 - the API's result types
    AdjustResult,
    Applied,
    AppliedHook,
    BalanceOpResult,
    LotProcessed,
    WalletResult,
)

ADJUSTED = {PARTICIPANT: "Balance adjusted successfully", GROUP: "Group balance adjusted successfully"}


def adjust_balance(
    organisation_id: str,
    owner_id: str,
    *,
    owner_type: str = PARTICIPANT,
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
    """CREDIT or DEBIT a participant's (or, with `owner_type=GROUP`, a group's) bucket directly.

    >>> adjust_balance(org.id, p.id, program_id=prog.id, asset_id="PTS", type="CREDIT",
    ...                amount="10", description="goodwill").balance.available
    Decimal('10.00')
    """
    if type not in ("CREDIT", "DEBIT"):
        raise LedgerRejected(f"type must be CREDIT or DEBIT, got {type!r}", code="bad_request")
    if bucket not in (AVAILABLE, HELD):
        raise LedgerRejected(f"bucket must be AVAILABLE or HELD, got {bucket!r}", code="bad_request")
    check_description(description, required=True)
    with write_transaction():
        ledger = Ledger(organisation_id)  # the ledger head first, as every writer (then a group's row)
        owner, program, asset, entity = subjects(
            organisation_id, owner_type, owner_id, program_id, asset_id, ("ACTIVE",), type
        )
        value = parse_amount(amount, asset)
        fields: dict[str, Any] = {"description": description, "created_by_api_key_id": api_key_id}
        if type == "CREDIT":
            entry = movements.credit(ledger, asset, program.id, entity, value, bucket, **fields)
        else:
            entry = movements.debit(ledger, asset, program.id, entity, value, bucket, allow_negative, **fields)
        ledger.finish()
        result = AdjustResult(
            amount=value,
            asset_id=asset.id,
            balance=balance_of(entity, asset),
            bucket=bucket,
            journal_entry_id=entry.id,
            message=ADJUSTED[entity.type],
            program_id=program.id,
            type=type,
        )
        if on_applied is not None:
            person = owner if isinstance(owner, Participant) else None
            settled = tuple(ledger.settlements)
            group = None if isinstance(owner, Participant) else owner
            on_applied(Applied(type, result, program, asset, value, bucket, person, description, None, settled, group))
        return result


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


def _wallet_op(
    operation, organisation_id, program_id, asset_id, amount, description, api_key_id, on_applied: AppliedHook | None
) -> WalletResult:
    check_description(description, required=False)
    with write_transaction():
        program = lookups.program(organisation_id, program_id)
        asset = lookups.linked_asset(organisation_id, program.id, asset_id)
        value = parse_amount(amount, asset)
        ledger = Ledger(organisation_id)
        step = movements.fund if operation == "FUND" else movements.burn
        entry = step(ledger, asset, program.id, value, description=description, created_by_api_key_id=api_key_id)
        ledger.finish()
        wallet = balance_of(Entity(PROGRAM, program.id), asset)
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
