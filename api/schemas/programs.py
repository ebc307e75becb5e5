"""Bodies of `/v1/programs` and `/v1/assets`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas.common import AmountText, Description, Id, Name, OpDescription, Request, Response

ProgramStatus = Literal["ACTIVE", "SUSPENDED", "ARCHIVED"]
UnknownParticipant = Literal["CREATE", "REJECT"]
RedemptionTarget = Literal["SYSTEM_REDEMPTION", "SYSTEM_BREAKAGE", "ledger_entity"]
Key = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]*$", max_length=100)]
Symbol = Annotated[str, msgspec.Meta(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9]+$")]
EventValidation = Literal["OFF", "FLAG", "REJECT"]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR")]
TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64, examples=["Europe/London"])]


class ProgramCreate(Request):
    """Example: `{"name": "Coffee rewards", "on_unknown_participant": "CREATE"}`."""

    name: Name
    description: Description | None = None
    on_unknown_participant: UnknownParticipant = "CREATE"
    key: Key | None = None  # the bundle files' program key (`accrual apply` matches on it)
    timezone: TimeZone = "UTC"  # IANA zone of the program's calendar periods (D32)
    # the bundle's `events:`: event type -> field -> type; rules are type-checked against them
    event_types: dict[str, dict[str, Any]] | None = None
    event_validation: EventValidation = "OFF"  # ingest's check of event_data against event_types


class ProgramPatch(Request):
    name: Name | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    on_unknown_participant: UnknownParticipant | UnsetType = UNSET
    status: ProgramStatus | UnsetType = UNSET
    redemption_target_type: RedemptionTarget | UnsetType = UNSET
    redemption_target_entity_id: Id | UnsetType | None = UNSET
    timezone: TimeZone | UnsetType = UNSET
    event_types: dict[str, dict[str, Any]] | UnsetType | None = UNSET
    event_validation: EventValidation | UnsetType = UNSET


class ProgramOut(Response):
    id: str
    name: str
    description: str | None
    key: str | None
    on_unknown_participant: str
    status: str
    redemption_target_type: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    redemption_target_id: str | None = None
    timezone: str = "UTC"
    event_types: dict[str, dict[str, Any]] | None = None
    event_validation: str = "OFF"


class WalletOperation(Request):
    amount: AmountText
    description: OpDescription | None = None


class WalletBalance(Response):
    asset_id: str
    available: str
    held: str
    deferred: str
    issuance_policy: str


class AssetCreate(Request):
    """Example: `{"program_id": "...", "name": "Points", "symbol": "PTS", "scale": 0}`."""

    program_id: Id
    name: Name
    symbol: Symbol
    scale: Annotated[int, msgspec.Meta(ge=0, le=18)]
    inventory_mode: Literal["SIMPLE", "LOT"] = "SIMPLE"
    spending_order: Literal["FIFO", "EXPIRING_FIRST"] = "FIFO"
    issuance_policy: Literal["UNLIMITED", "PREFUNDED"] = "UNLIMITED"
    max_transaction_amount: AmountText | None = None
    unit_value: AmountText | None = None  # money per unit (with `currency`): the liability report
    currency: Currency | None = None


class AssetPatch(Request):
    name: Name | UnsetType = UNSET
    max_transaction_amount: AmountText | UnsetType | None = UNSET
    spending_order: Literal["FIFO", "EXPIRING_FIRST"] | UnsetType = UNSET
    status: Literal["ARCHIVED"] | UnsetType = UNSET
    unit_value: AmountText | UnsetType | None = UNSET  # with `currency`; null clears both
    currency: Currency | UnsetType | None = UNSET


class AssetOut(Response):
    id: str
    name: str
    symbol: str
    scale: int
    inventory_mode: str
    spending_order: str
    issuance_policy: str
    max_transaction_amount: str | None
    unit_value: str | None
    currency: str | None
    program_ids: list[str]
    status: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
