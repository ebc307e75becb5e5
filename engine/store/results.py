"""Results of the direct balance operations, as the API answers them, and the hook through which
callers see what an operation changed (inside its transaction)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

import msgspec

from engine.model.state import Balance
from engine.store.models import Asset, Group, Participant, Program


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
    lots_processed: list[LotProcessed] | msgspec.UnsetType = msgspec.UNSET  # LOT assets only


class LotProcessed(msgspec.Struct, kw_only=True):
    id: str
    amount: Decimal


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
    The owner is `participant` or `group` (the other None); both None for the program wallet.
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
    # lots the operation expired or matured first (`engine.store.ledger.movements.Settlement`)
    settlements: tuple[Any, ...] = ()
    group: Group | None = None


AppliedHook = Callable[[Applied], None]
