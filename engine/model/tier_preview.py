"""Who a change of tier rules would move, pure (A138): a member's level judged by a tier type as
it would be written, against their counters now.

    preview_level(tier, current, counters)   # -> LevelPreview(direction="UP", new_level="gold", ...) or None

UP: the counters earn a level above the member's (auto-qualification would move them at their
next event). DOWN: the member's level has criteria the counters no longer meet, and the tier's
downgrade policy would send them lower at a review (its grace aside); a level the tier no longer
has is DOWN to what the counters earn. A level without criteria (set by rules or the API) and a
HOLD policy move no one down.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import NamedTuple

from engine.model.bundle import TierType
from engine.model.tier_lifecycle import Standing, drop_target, qualifies, qualifying_level


class LevelPreview(NamedTuple):
    tier: str
    current_level: str | None
    current_rank: int | None
    new_level: str | None
    new_rank: int | None
    direction: str  # UP | DOWN


def preview_level(
    tier: TierType, current: tuple[str, int] | None, counters: Mapping[str, Decimal]
) -> LevelPreview | None:
    """How `tier` would move a member at `current` (level, rank; None: no level) with `counters`;
    None when it would not move them."""
    earned = qualifying_level(tier, counters)
    if current is None:
        return LevelPreview(tier.key, None, None, earned.key, earned.rank, "UP") if earned is not None else None
    level_key, rank = current
    level = next((level for level in tier.levels if level.key == level_key), None)
    if level is None:  # the level is gone from the tier
        if earned is None:
            return LevelPreview(tier.key, level_key, rank, None, None, "DOWN")
        return LevelPreview(tier.key, level_key, rank, earned.key, earned.rank, "DOWN")
    if earned is not None and earned.rank > level.rank:
        return LevelPreview(tier.key, level_key, level.rank, earned.key, earned.rank, "UP")
    if level.qualification is None or not level.qualification.criteria or qualifies(level.qualification, counters):
        return None
    target = drop_target(tier, Standing(level=level.key, rank=level.rank), counters)
    if target is not None and target.key == level.key:
        return None  # HOLD, or at the floor
    new_level, new_rank = (target.key, target.rank) if target is not None else (None, None)
    return LevelPreview(tier.key, level_key, level.rank, new_level, new_rank, "DOWN")
