"""Checks of a test case's spending steps (A211), after the schema check: a step does one thing;
a redemption names a reward of the catalog (or an asset and an amount); a reversal names an earlier
redemption's label; a transfer needs the case's recipient; amounts fit their asset's scale.

    steps:
      - {at: 2026-03-01T10:00:00Z, redeem: {reward: Free coffee, label: coffee}}
      - {at: 2026-03-02T10:00:00Z, reverse: {redemption: coffee}}

Codes: `invalid_value`, `missing_field`, `unknown_reward`, `unknown_asset`, `unknown_redemption`,
`duplicate_label`, `invalid_scale`, `invalid_amount`.
"""

from __future__ import annotations

from typing import Protocol

from engine.model.amounts import AmountError, parse_amount
from engine.model.bundle import Bundle, RedeemStep, TestCase
from engine.model.rewards import Reward
from engine.rules.problems import ProblemSink
from engine.rules.yaml_source import Path


class Names(Protocol):
    """The bundle's names as `engine.rules.references` checks them: an unknown one is reported
    (with a suggestion) and answers False."""

    sink: ProblemSink

    def asset(self, path: Path, symbol: str) -> bool: ...

    def reward(self, path: Path, name: str) -> bool: ...


def check_steps(names: Names, bundle: Bundle, case: TestCase, path: Path) -> None:
    """Report the problems of `case`'s spending steps into `names.sink`."""
    scales = {asset.symbol: asset.scale for asset in bundle.assets}
    rewards = {reward.name: reward for reward in bundle.rewards}
    labels: dict[str, str] = {}  # label -> the asset of its redemption
    for k, step in enumerate(case.steps or []):
        at: Path = (*path, "steps", k)
        if len(step.actions()) > 1:
            names.sink.at(at, "invalid_value", f"a step does one thing; this one gives {', '.join(step.actions())}")
            continue
        if step.redeem is not None:
            _redeem(names, step.redeem, (*at, "redeem"), rewards, scales, labels)
        elif step.reverse is not None:
            reverse, where = step.reverse, (*at, "reverse")
            if reverse.redemption not in labels:
                known = ", ".join(sorted(labels)) or "none so far"
                message = f"no earlier step redeems with label {reverse.redemption!r} (labels: {known})"
                names.sink.at((*where, "redemption"), "unknown_redemption", message)
            else:
                _amount(names, (*where, "amount"), reverse.amount, labels[reverse.redemption], scales)
        elif step.transfer is not None:
            where = (*at, "transfer")
            if case.recipient is None:
                names.sink.at(where, "missing_field", "a transfer goes to the case's `recipient`: give one")
            if names.asset((*where, "asset_id"), step.transfer.asset_id):
                _amount(names, (*where, "amount"), step.transfer.amount, step.transfer.asset_id, scales)


def _redeem(names: Names, redeem: RedeemStep, where: Path, rewards: dict[str, Reward], scales, labels) -> None:
    """A catalog redemption by a known reward's name, or a raw one of an asset and an amount."""
    symbol: str | None = None
    if redeem.reward is not None:
        if redeem.asset_id is not None:
            names.sink.at((*where, "asset_id"), "invalid_value", "a reward is redeemed in its own asset: drop asset_id")
        if names.reward((*where, "reward"), redeem.reward) and redeem.reward in rewards:
            reward = rewards[redeem.reward]
            symbol = reward.asset_id
            wrong = "amount" if reward.redemption_type == "UNIT_BASED" else "quantity"
            if getattr(redeem, wrong) is not None:
                right = "quantity" if wrong == "amount" else "amount"
                message = f"reward {reward.name!r} is {reward.redemption_type}: give a {right}, not an {wrong}"
                names.sink.at((*where, wrong), "invalid_value", message.replace("an quantity", "a quantity"))
            elif reward.redemption_type == "AMOUNT_BASED" and redeem.amount is None:
                names.sink.at(where, "missing_field", f"reward {reward.name!r} is AMOUNT_BASED: give an amount")
    elif redeem.asset_id is None or redeem.amount is None:
        names.sink.at(where, "missing_field", "a redemption names a `reward`, or an `asset_id` and an `amount`")
    elif redeem.quantity is not None:
        names.sink.at((*where, "quantity"), "invalid_value", "a raw redemption has an amount, not a quantity")
    elif names.asset((*where, "asset_id"), redeem.asset_id):
        symbol = redeem.asset_id
    if symbol is not None:
        _amount(names, (*where, "amount"), redeem.amount, symbol, scales)
    if redeem.label is not None:
        if redeem.label in labels:
            names.sink.at((*where, "label"), "duplicate_label", f"duplicate redemption label {redeem.label!r}")
        else:  # a redemption with a problem of its own still names its label
            labels[redeem.label] = symbol or ""


def _amount(names: Names, path: Path, value: object, symbol: str, scales: dict[str, int]) -> None:
    if value is None or symbol not in scales:
        return
    try:
        parse_amount(value, scale=scales[symbol])
    except AmountError as exc:
        names.sink.at(path, exc.code.lower(), f"{exc.message} ({symbol})")
