"""A catalog item as it is created: the API's create body and what storage stores
(`engine.store.rewards`); the rules of redeeming it are `engine.model.spending`'s.

    Reward(name="Free coffee", redemption_type="UNIT_BASED", asset_id="STAMP", unit_cost="10", max_total=500)
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec

from engine.limits import INTEGER_COLUMN_MAX

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Description = Annotated[str, msgspec.Meta(max_length=1000)]
Category = Annotated[str, msgspec.Meta(max_length=100)]
UnitCost = Annotated[str, msgspec.Meta(pattern=r"^[0-9]+(\.[0-9]+)?$", max_length=60)]
Units = Annotated[int, msgspec.Meta(ge=0, le=INTEGER_COLUMN_MAX)]
RedemptionType = Literal["UNIT_BASED", "AMOUNT_BASED"]
FileRewardStatus = Literal["DRAFT", "ACTIVE", "ARCHIVED"]  # OUT_OF_STOCK follows the stock
RFC3339 = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
# A moment written as RFC 3339 text with an offset. Request bodies are converted leniently (a
# datetime field would take a number as a Unix time), so moments are read as text of this shape
# and parsed by `instant` after.
InstantText = Annotated[str, msgspec.Meta(pattern=RFC3339, max_length=64, extra_json_schema={"format": "date-time"})]
_AWARE = Annotated[datetime, msgspec.Meta(tz=True)]


def instant(value: object, field: str) -> datetime | None:
    """`value` (RFC 3339 text with an offset, an aware datetime or None) as a datetime; a
    `ValueError` naming `field` otherwise (a date that does not exist, such as month 13)."""
    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    if isinstance(value, str):
        try:
            return msgspec.convert(value, _AWARE)
        except msgspec.ValidationError:
            pass
    raise ValueError(f"{field} must be an RFC 3339 timestamp with an offset, e.g. 2026-01-01T00:00:00Z")


class _Struct(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """The configuration of every bundle Struct (`engine.model.bundle.Struct`)."""


class Reward(_Struct, kw_only=True):
    """A catalog item. `asset_id` names a bundle asset by symbol. UNIT_BASED items cost
    `unit_cost` a unit and may cap the units in all (`max_total`) and per participant; an
    AMOUNT_BASED item is redeemed for any amount of at least `unit_cost`. The window
    `[available_from, available_until)` bounds when it can be redeemed."""

    name: Name
    redemption_type: RedemptionType
    asset_id: str
    unit_cost: UnitCost
    description: Description | None = None
    category: Category | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    max_total: Units | None = None
    max_per_participant: Units | None = None
    status: FileRewardStatus = "ACTIVE"
    if TYPE_CHECKING:
        available_from: datetime | None = None
        available_until: datetime | None = None
    else:
        available_from: InstantText | None = None
        available_until: InstantText | None = None

    def __post_init__(self) -> None:
        self.available_from = instant(self.available_from, "available_from")
        self.available_until = instant(self.available_until, "available_until")
