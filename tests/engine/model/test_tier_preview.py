"""Who a tier type as it would be written moves, against counters: up, down by the policy, off a
removed level; never a level set by rules, never under HOLD."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from engine.model.bundle import TierType
from engine.model.tier_preview import preview_level


def tier(policy: dict | None = None, *, gold_at: int = 50000) -> TierType:
    def at_least(miles: int) -> dict:
        return {"criteria": [{"counter": "miles", "operator": ">=", "threshold": miles}]}

    lifecycle = {"retention": {"mode": "PERIOD_BASED"}, "qualification_period": {"type": "CALENDAR_YEAR"}}
    if policy is not None:
        lifecycle["downgrade_policy"] = policy
    levels = [
        {"key": "blue", "rank": 0},
        {"key": "silver", "rank": 1, "qualification": at_least(25000)},
        {"key": "gold", "rank": 2, "qualification": at_least(gold_at)},
    ]
    return msgspec.convert({"key": "status", "levels": levels, "lifecycle": lifecycle}, TierType)


def moved(t: TierType, current, miles: int):
    found = preview_level(t, current, {"miles": Decimal(miles)})
    return None if found is None else (found.current_level, found.new_level, found.direction)


@pytest.mark.parametrize(
    ("t", "current", "miles", "expected"),
    [
        (tier(), None, 30000, (None, "silver", "UP")),
        (tier(), None, 100, None),
        (tier(), ("silver", 1), 60000, ("silver", "gold", "UP")),
        (tier(gold_at=70000), ("gold", 2), 60000, ("gold", "silver", "DOWN")),  # a raised threshold
        (tier({"mode": "DROP_ONE"}, gold_at=70000), ("gold", 2), 0, ("gold", "silver", "DOWN")),
        (tier(gold_at=70000), ("gold", 2), 0, ("gold", None, "DOWN")),
        (tier({"mode": "HOLD"}, gold_at=70000), ("gold", 2), 0, None),
        (tier({"min_level": "gold"}, gold_at=70000), ("gold", 2), 0, None),  # at the floor
        (tier(), ("blue", 0), 0, None),  # a level without criteria is set by rules
        (tier(), ("platinum", 3), 30000, ("platinum", "silver", "DOWN")),  # the level is gone
        (tier(), ("platinum", 3), 0, ("platinum", None, "DOWN")),
        (tier(), ("gold", 2), 60000, None),
    ],
)
def test_who_moves(t, current, miles, expected):
    assert moved(t, current, miles) == expected
