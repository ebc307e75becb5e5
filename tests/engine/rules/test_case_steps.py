"""`accrual check` on spending steps: each problem at its file:line:col."""

from __future__ import annotations

from engine.rules.loader import load_bundle_text

BUNDLE = """\
program: {key: shop, name: Shop}
assets: [{symbol: PTS, name: Points, scale: 2}]
rewards:
  - {name: Mug, redemption_type: UNIT_BASED, asset_id: PTS, unit_cost: "10"}
  - {name: Voucher, redemption_type: AMOUNT_BASED, asset_id: PTS, unit_cost: "5"}
tests:
  - name: spending
    participant: {balances: {PTS: 100}}
    steps:
"""


def problems(steps: str, *, recipient: bool = True) -> list[tuple[int, int, str]]:
    text = BUNDLE.replace("    steps:\n", "    recipient: {}\n    steps:\n") if recipient else BUNDLE
    loaded = load_bundle_text(text + steps, "shop.yaml")
    return [(problem.line, problem.column, problem.code) for problem in loaded.errors]


def test_valid_steps_check_clean():
    assert (
        problems("""\
      - {at: 2026-03-01T10:00:00Z, redeem: {reward: Mug, quantity: 2, label: mugs}}
      - {at: 2026-03-01T10:00:00Z, redeem: {reward: Voucher, amount: "7.50"}}
      - {at: 2026-03-01T10:00:00Z, redeem: {asset_id: PTS, amount: 3}}
      - {at: 2026-03-01T11:00:00Z, reverse: {redemption: mugs, quantity: 1}}
      - {at: 2026-03-01T12:00:00Z, transfer: {asset_id: PTS, amount: 1}}
""")
        == []
    )


def test_unknown_names_and_bad_amounts_are_placed():
    lines = problems("""\
      - {at: 2026-03-01T10:00:00Z, redeem: {reward: Mugg}}
      - {at: 2026-03-01T10:00:00Z, redeem: {asset_id: PTS, amount: "1.001"}}
      - {at: 2026-03-01T10:00:00Z, redeem: {asset_id: PTZ, amount: 1}}
      - {at: 2026-03-01T10:00:00Z, redeem: {reward: Mug, amount: 10}}
      - {at: 2026-03-01T10:00:00Z, redeem: {reward: Voucher}}
      - {at: 2026-03-01T10:00:00Z, redeem: {asset_id: PTS}}
      - {at: 2026-03-01T10:00:00Z, redeem: {reward: Mug, label: a}}
      - {at: 2026-03-01T10:00:00Z, redeem: {reward: Mug, label: a}}
      - {at: 2026-03-01T10:00:00Z, reverse: {redemption: b}}
      - {at: 2026-03-01T10:00:00Z, reverse: {redemption: a, amount: "-1"}}
      - {at: 2026-03-01T10:00:00Z, transfer: {asset_id: PTS, amount: 0}}
      - {at: 2026-03-01T10:00:00Z, event: {type: x}, transfer: {asset_id: PTS, amount: 1}}
""")
    assert lines == [
        (11, 53, "unknown_reward"),
        (12, 68, "invalid_scale"),
        (13, 55, "unknown_asset"),
        (14, 66, "invalid_value"),
        (15, 44, "missing_field"),
        (16, 44, "missing_field"),
        (18, 65, "duplicate_label"),
        (19, 58, "unknown_redemption"),
        (20, 69, "invalid_amount"),
        (21, 70, "invalid_amount"),
        (22, 9, "invalid_value"),
    ]


def test_a_transfer_needs_the_cases_recipient():
    lines = problems("      - {at: 2026-03-01T10:00:00Z, transfer: {asset_id: PTS, amount: 1}}\n", recipient=False)
    assert lines == [(10, 46, "missing_field")]


def test_a_quantity_below_one_is_a_schema_problem():
    lines = problems("      - {at: 2026-03-01T10:00:00Z, redeem: {reward: Mug, quantity: 0}}\n")
    assert lines == [(11, 68, "invalid_value")]


def test_a_reversal_of_a_redemption_with_its_own_problem_is_not_reported_again():
    lines = problems("""\
      - {at: 2026-03-01T10:00:00Z, redeem: {reward: Mugg, label: a}}
      - {at: 2026-03-01T11:00:00Z, reverse: {redemption: a, amount: 1}}
""")
    assert lines == [(11, 53, "unknown_reward")]
