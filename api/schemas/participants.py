"""Bodies of `/v1/participants` and its state and balance routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas.common import AmountText, Id, OpDescription, Request, Response
from engine.model.instants import Instant

ParticipantStatus = Literal["ACTIVE", "SUSPENDED", "CLOSED"]
ExternalId = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Profile = Annotated[str, msgspec.Meta(max_length=255)]
Email = Annotated[str, msgspec.Meta(max_length=255, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, msgspec.Meta(max_length=50)]
TagText = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
AttributeKey = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
AttributeValue = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
Bucket = Literal["AVAILABLE", "HELD"]


class ParticipantUpsert(Request):
    """Example: `{"external_id": "user_123", "program_id": "...", "email": "a@example.com", "tags": ["vip"]}`."""

    external_id: ExternalId
    program_id: Id | None = None
    status: ParticipantStatus | None = None
    email: Email | None = None
    phone: Phone | None = None
    first_name: Profile | None = None
    last_name: Profile | None = None
    display_name: Profile | None = None
    attributes: dict[AttributeKey, AttributeValue] | None = None
    tags: Annotated[list[TagText], msgspec.Meta(max_length=1000)] | None = None


class ParticipantPatch(Request):
    """Profile strings: "" clears. `attributes` merge, `tags` replace all. Status has its own route."""

    external_id: ExternalId | UnsetType = UNSET
    email: Email | UnsetType = UNSET
    phone: Phone | UnsetType = UNSET
    first_name: Profile | UnsetType = UNSET
    last_name: Profile | UnsetType = UNSET
    display_name: Profile | UnsetType = UNSET
    attributes: dict[AttributeKey, AttributeValue] | UnsetType = UNSET
    tags: Annotated[list[TagText], msgspec.Meta(max_length=1000)] | UnsetType = UNSET


class StatusChange(Request):
    status: ParticipantStatus


class BalanceOut(Response):
    asset_id: str
    available: str
    held: str
    deferred: str


class TierOut(Response):
    level: str
    rank: int


class ParticipantOut(Response):
    id: str
    external_id: str
    status: str
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    display_name: str | None
    program_ids: list[str]
    created_at: datetime
    updated_at: datetime
    tags: list[str] | None = None
    counters: dict[str, str] | None = None
    attributes: dict[str, str] | None = None
    tiers: dict[str, TierOut] | None = None
    balances: list[BalanceOut] | None = None


class Adjust(Request):
    program_id: Id
    asset_id: Id
    type: Literal["CREDIT", "DEBIT"]
    amount: AmountText
    description: OpDescription
    allow_negative: bool = False
    bucket: Bucket = "AVAILABLE"


ReferenceId = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
IdempotencyKey = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]


class BalanceOperation(Request):
    """The shared hold / release / forfeit body. `amount` omitted: the whole bucket, what
    `reference_id` holds, or on LOT assets every lot `lot_ids`, `earned_from`, `earned_to` and
    `reference_id` admit."""

    program_id: Id
    asset_id: Id
    description: OpDescription
    amount: AmountText | None = None
    bucket: Bucket | None = None
    reference_id: ReferenceId | None = None
    lot_ids: Annotated[list[Id], msgspec.Meta(min_length=1, max_length=100)] | None = None
    earned_from: Instant | None = None
    earned_to: Instant | None = None
    idempotency_key: IdempotencyKey | None = None


class VoidHold(BalanceOperation, kw_only=True):
    """Cancel the provisional accrual held under `reference_id` (LOT assets). The body is the
    shared balance-operation body, `reference_id` required: `amount`, `bucket`, `lot_ids` and
    `earned_*` are accepted and ignored, since a void-hold always voids the whole accrual the
    reference holds."""

    reference_id: ReferenceId


def balance_request(data: Adjust | BalanceOperation) -> dict[str, Any]:
    """A balance operation's body as the store function's keyword arguments (fields left out are
    the function's defaults): the same for a participant's operations and a group's."""
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}


class StateHistoryOut(Response):
    id: str
    state_type: str
    key: str
    operation: str
    old_value: str | None
    new_value: str | None
    program_id: str | None
    event_id: str | None
    rule_id: str | None
    changed_by_api_key_id: str | None
    changed_at: datetime
    # why a tier (or a counter, at a period's rollover) changed (A133): RULE, QUALIFICATION, API,
    # PERIOD_END, INACTIVITY, EXPIRY; absent for other changes
    reason: str | UnsetType = UNSET


class TagOut(Response):
    tag: str


class TagsOut(Response):
    tags: list[str]


class TagsReplace(Request):
    tags: Annotated[list[TagText], msgspec.Meta(max_length=1000)]


class CounterOut(Response):
    key: str
    value: str
    reset_after: str | None
    last_reset_at: datetime | None


class CounterSet(Request):
    """Example: `{"value": "12", "reset_after": "720h"}`; `reset_after: ""` removes auto-reset."""

    value: Annotated[str, msgspec.Meta(min_length=1, max_length=60, pattern=r"^-?[0-9]+(\.[0-9]+)?$")]
    reset_after: Annotated[str, msgspec.Meta(max_length=32)] | None = None


class AttributeOut(Response):
    key: str
    value: str


class AttributeSet(Request):
    value: AttributeValue


class AttributesMerge(Request):
    attributes: dict[AttributeKey, AttributeValue]


class AttributesOut(Response):
    attributes: dict[str, str]


class TierStateOut(Response):
    key: str
    level: str
    rank: int
    benefits: dict[str, Any]
    acquired_at: datetime
    expires_at: datetime | None


class TierSet(Request):
    level: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    expires_at: Instant | None = None
