"""Bodies of spending: the rewards catalog (`/v1/programs/{id}/rewards`), redemptions and their
reversals, and transfers. Amounts are decimal strings (D19); answers of redemptions, reversals and
transfers are `engine.store.spending_results`'."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas.common import AmountText, Description, Id, Name, OpDescription, Request, Response
from api.schemas.participants import ExternalId, IdempotencyKey
from engine.limits import INTEGER_COLUMN_MAX
from engine.model.instants import Instant

RewardStatus = Literal["DRAFT", "ACTIVE", "OUT_OF_STOCK", "ARCHIVED"]
SettableStatus = Literal["DRAFT", "ACTIVE", "ARCHIVED"]  # OUT_OF_STOCK follows the stock
RedemptionType = Literal["UNIT_BASED", "AMOUNT_BASED"]
Category = Annotated[str, msgspec.Meta(max_length=100)]
Units = Annotated[int, msgspec.Meta(ge=0, le=INTEGER_COLUMN_MAX)]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=INTEGER_COLUMN_MAX)]


class RewardCreate(Request, kw_only=True):
    """Example: `{"name": "Free coffee", "redemption_type": "UNIT_BASED", "asset_id": "<id or symbol>",
    "unit_cost": "250", "status": "ACTIVE", "max_total": 500}`."""

    name: Name
    redemption_type: RedemptionType
    asset_id: Id
    unit_cost: AmountText
    status: SettableStatus
    description: Description | None = None
    category: Category | None = None
    metadata: dict[str, Any] | None = None
    max_total: Units | None = None
    max_per_participant: Units | None = None
    available_from: Instant | None = None
    available_until: Instant | None = None


class RewardPatch(Request, kw_only=True):
    """Fields given change; `null` clears the optional ones. `redemption_type` and `asset_id` are
    immutable: given, they must equal the reward's."""

    name: Name | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    category: Category | UnsetType | None = UNSET
    metadata: dict[str, Any] | UnsetType | None = UNSET
    unit_cost: AmountText | UnsetType = UNSET
    max_total: Units | UnsetType | None = UNSET
    max_per_participant: Units | UnsetType | None = UNSET
    status: SettableStatus | UnsetType = UNSET
    available_from: Instant | UnsetType | None = UNSET
    available_until: Instant | UnsetType | None = UNSET
    redemption_type: RedemptionType | UnsetType = UNSET
    asset_id: Id | UnsetType = UNSET


class RewardOut(Response, kw_only=True):
    id: str
    program_id: str
    name: str
    description: str | None
    category: str | None
    metadata: dict[str, Any]
    redemption_type: RedemptionType
    asset_id: str
    unit_cost: Decimal
    max_total: int | None
    max_per_participant: int | None
    redeemed_count: int
    status: RewardStatus
    available_from: datetime | None
    available_until: datetime | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class RawRedemption(Request, kw_only=True):
    """`amount` of `asset_id` leaves the participant's AVAILABLE balance."""

    program_id: Id
    asset_id: Id
    amount: AmountText
    description: OpDescription
    idempotency_key: IdempotencyKey | None = None


class ItemRedemption(Request, kw_only=True):
    """`quantity` units of a UNIT_BASED reward (default 1), or `amount` of an AMOUNT_BASED one."""

    program_id: Id
    reward_id: Id
    quantity: Quantity | None = None
    amount: AmountText | None = None
    description: OpDescription | None = None
    idempotency_key: IdempotencyKey | None = None


class ReversalRequest(Request, kw_only=True):
    """`amount` (raw and AMOUNT_BASED redemptions) or `quantity` (UNIT_BASED); neither: the rest."""

    reason: OpDescription
    amount: AmountText | None = None
    quantity: Quantity | None = None
    idempotency_key: IdempotencyKey | None = None


class TransferRecipientIn(Request, kw_only=True):
    """Exactly one of `participant_id`, `external_id` and `group_id`."""

    amount: AmountText
    participant_id: Id | None = None
    external_id: ExternalId | None = None
    group_id: Id | None = None


class TransferRequest(Request, kw_only=True):
    """Exactly one source: `source_participant_id`, `source_external_id` or `source_group_id`."""

    program_id: Id
    asset_id: Id
    description: OpDescription
    recipients: Annotated[list[TransferRecipientIn], msgspec.Meta(min_length=1, max_length=100)]
    source_participant_id: Id | None = None
    source_external_id: ExternalId | None = None
    source_group_id: Id | None = None
    idempotency_key: IdempotencyKey | None = None
