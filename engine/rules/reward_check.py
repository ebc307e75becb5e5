"""Checks of a bundle's reward catalog (`rewards:`), after the schema check: names unique, each
reward priced in a declared asset at that asset's scale, and fields that agree with each other
(the rules `engine.model.spending.reward_problems` states for the API as well).

    rewards:
      - {name: Free coffee, redemption_type: UNIT_BASED, asset_id: STAMP, unit_cost: "10"}

Codes: `duplicate_reward`, `unknown_asset`, `invalid_scale`, `invalid_value`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from engine.model.amounts import AmountError, parse_decimal
from engine.model.bundle import Bundle
from engine.model.spending import reward_problems
from engine.rules.problems import ProblemSink
from engine.rules.yaml_source import Path


def check_rewards(
    bundle: Bundle,
    sink: ProblemSink,
    known_asset: Callable[[Path, str], bool],
    duplicates: Callable[..., None],
) -> None:
    """Report the catalog's problems into `sink`; `known_asset` reports an unknown symbol, and
    `duplicates` the repeated names (both `engine.rules.references`')."""
    duplicates(
        sink,
        "duplicate_reward",
        "reward name",
        ((("rewards", i, "name"), reward.name) for i, reward in enumerate(bundle.rewards)),
    )
    scales = {asset.symbol: asset.scale for asset in bundle.assets}
    for index, reward in enumerate(bundle.rewards):
        path: Path = ("rewards", index)
        if known_asset((*path, "asset_id"), reward.asset_id) and reward.asset_id in scales:
            try:
                parse_decimal(reward.unit_cost, scale=scales[reward.asset_id], what="unit_cost")
            except AmountError as exc:
                sink.at((*path, "unit_cost"), exc.code.lower(), exc.message)
        problems = reward_problems(
            redemption_type=reward.redemption_type,
            unit_cost=Decimal(reward.unit_cost),
            max_total=reward.max_total,
            max_per_participant=reward.max_per_participant,
            available_from=reward.available_from,
            available_until=reward.available_until,
        )
        for field, message in problems:
            sink.at((*path, field), "invalid_value", f"reward {reward.name!r}: {message}")
