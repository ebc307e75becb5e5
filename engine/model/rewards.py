"""A catalog item as it is created: the API's create body and what storage stores
(`engine.store.rewards`); the rules of redeeming it are `engine.model.spending`'s.

    Reward(name="Free coffee", redemption_type="UNIT_BASED", asset_id="STAMP", unit_cost="10", max_total=500)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from engine.limits import INTEGER_COLUMN_MAX
from engine.model.instants import Instant, read_instants

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Description = Annotated[str, msgspec.Meta(max_length=1000)]
Category = Annotated[str, msgspec.Meta(max_length=100)]
UnitCost = Annotated[str, msgspec.Meta(pattern=r"^[0-9]+(\.[0-9]+)?$", max_length=60)]
Units = Annotated[int, msgspec.Meta(ge=0, le=INTEGER_COLUMN_MAX)]
RedemptionType = Literal["UNIT_BASED", "AMOUNT_BASED"]
FileRewardStatus = Literal["DRAFT", "ACTIVE", "ARCHIVED"]  # OUT_OF_STOCK follows the stock


class _Struct(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """The configuration of every bundle Struct (`engine.model.bundle.Struct`)."""

    def __post_init__(self) -> None:
        read_instants(self)


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
    available_from: Instant | None = None
    available_until: Instant | None = None
