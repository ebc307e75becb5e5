"""Spending steps of test cases: redemptions, reversals and transfers with the server's rules."""

from __future__ import annotations

from engine.evaluator.cases import run_test_cases
from engine.rules.loader import load_bundle_text

BUNDLE = """
program: {key: shop, name: Shop}
assets:
  - {symbol: PTS, name: Points, scale: 2}
  - {symbol: MILES, name: Miles, scale: 0, inventory_mode: LOT}
rewards:
  - {name: Mug, redemption_type: UNIT_BASED, asset_id: PTS, unit_cost: "10.50", max_total: 5, max_per_participant: 2}
  - {name: Upgrade, redemption_type: UNIT_BASED, asset_id: MILES, unit_cost: "100"}
  - {name: Voucher, redemption_type: AMOUNT_BASED, asset_id: PTS, unit_cost: "5"}
  - {name: Old mug, redemption_type: UNIT_BASED, asset_id: PTS, unit_cost: "1", status: ARCHIVED}
  - name: Summer
    redemption_type: UNIT_BASED
    asset_id: PTS
    unit_cost: "1"
    available_from: 2026-06-01T00:00:00Z
rules:
  - name: earn
    condition: event.type == "buy"
    actions: [{type: CREDIT, asset_id: MILES, amount: 100, expires_at: 720h}]
tests:
"""


def run(tests: str):
    loaded = load_bundle_text(BUNDLE + tests, "shop.yaml")
    assert loaded.ok, [problem.format() for problem in loaded.problems]
    return {result.name: result.diff for result in run_test_cases(loaded)}


def test_catalog_redemptions_count_units_and_a_reversal_gives_them_back():
    diffs = run("""
  - name: mugs
    participant: {balances: {PTS: 100}}
    starts_at: 2026-03-01T00:00:00Z
    steps:
      - {at: 2026-03-01T10:00:00Z, redeem: {reward: Mug, quantity: 2, label: two}, expect: {balances: {PTS: 79}}}
      - at: 2026-03-01T11:00:00Z
        redeem: {reward: Mug}
        expect: {status: FAILED, error_code: redemption_limit_exceeded, balances: {PTS: 79}}
      - {at: 2026-03-01T12:00:00Z, reverse: {redemption: two, quantity: 1}, expect: {balances: {PTS: 89.5}}}
      - {at: 2026-03-01T13:00:00Z, redeem: {reward: Mug}, expect: {balances: {PTS: 79}}}
      - at: 2026-03-01T14:00:00Z
        reverse: {redemption: two, quantity: 2}
        expect: {status: FAILED, error_code: reversal_exceeds_redemption}
      - {at: 2026-03-01T15:00:00Z, reverse: {redemption: two}, expect: {balances: {PTS: 89.5}}}
      - at: 2026-03-01T16:00:00Z
        reverse: {redemption: two}
        expect: {status: FAILED, error_code: redemption_fully_reversed}
""")
    assert diffs == {"mugs": []}


def test_the_catalogs_status_and_window_refuse_with_the_apis_codes():
    diffs = run("""
  - name: refusals
    participant: {balances: {PTS: 100}, status: ACTIVE}
    starts_at: 2026-03-01T00:00:00Z
    steps:
      - {at: 2026-03-01T10:00:00Z, redeem: {reward: Old mug}, expect: {error_code: reward_not_active}}
      - {at: 2026-03-01T10:00:00Z, redeem: {reward: Summer}, expect: {error_code: reward_not_available}}
      - {at: 2026-06-01T00:00:00Z, redeem: {reward: Summer}, expect: {balances: {PTS: 99}}}
      - {at: 2026-06-01T00:00:00Z, redeem: {asset_id: PTS, amount: 100}, expect: {error_code: insufficient_funds}}
      - {at: 2026-06-01T00:00:00Z, redeem: {reward: Voucher, amount: 4}, expect: {error_code: bad_request}}
  - name: a suspended member cannot redeem
    participant: {balances: {PTS: 100}, status: SUSPENDED}
    steps:
      - {at: 2026-03-01T10:00:00Z, redeem: {reward: Mug}, expect: {error_code: participant_inactive}}
""")
    assert diffs == {"refusals": [], "a suspended member cannot redeem": []}


def test_an_unexpected_refusal_or_a_wrong_balance_is_a_difference():
    diffs = run("""
  - name: wrong
    participant: {balances: {PTS: 10}}
    steps:
      - {at: 2026-03-01T10:00:00Z, redeem: {reward: Mug}}
      - {at: 2026-03-01T11:00:00Z, redeem: {reward: Voucher, amount: 6}, expect: {balances: {PTS: 5}, matched: []}}
""")
    assert diffs == {
        "wrong": [
            (
                "step 1 (2026-03-01T10:00:00Z): redeem refused (insufficient_funds): "
                "insufficient AVAILABLE balance of PTS: 10 available, 10.50 needed"
            ),
            "step 2 (2026-03-01T11:00:00Z): matched: a redeem step has no matched",
            "step 2 (2026-03-01T11:00:00Z): balances.PTS.available: expected 5, got 4.00",
        ]
    }


def test_on_a_lot_asset_a_reversal_restores_the_lots_taken_even_after_an_event_and_expiry():
    diffs = run("""
  - name: lots
    starts_at: 2026-01-01T00:00:00Z
    steps:
      - {at: 2026-01-01T00:00:00Z, event: {type: buy}}
      - {at: 2026-01-20T00:00:00Z, event: {type: buy}}
      - at: 2026-01-21T00:00:00Z
        redeem: {reward: Upgrade, quantity: 2, label: up}
        expect: {balances: {MILES: 0}, lots: {MILES: []}}
      - {at: 2026-01-22T00:00:00Z, event: {type: buy}, expect: {balances: {MILES: 100}}}
      - at: 2026-02-05T00:00:00Z
        description: the first lot expired on 2026-01-31, so what comes back into it expires at once
        reverse: {redemption: up}
        expect:
          balances: {MILES: 200}
          expired: {MILES: 100}
          lots:
            MILES:
              - {remaining: 100, expires_at: 2026-02-19T00:00:00Z}
              - {remaining: 100, expires_at: 2026-02-21T00:00:00Z}
""")
    assert diffs == {"lots": []}


def test_a_transfer_moves_value_to_the_recipient_as_a_fresh_lot():
    diffs = run("""
  - name: gift
    participant:
      lots: {MILES: [{amount: 300, created_at: 2026-01-01T00:00:00Z, expires_at: 2026-12-31T00:00:00Z}]}
    recipient: {balances: {PTS: 1}}
    steps:
      - at: 2026-03-01T00:00:00Z
        transfer: {asset_id: MILES, amount: 120}
        expect:
          balances: {MILES: 180}
          recipient: {balances: {MILES: 120, PTS: 1}, lots: {MILES: [{remaining: 120, expires_at: null}]}}
      - at: 2026-03-02T00:00:00Z
        transfer: {asset_id: PTS, amount: 1}
        expect: {error_code: insufficient_funds, recipient: {balances: {PTS: 1}}}
  - name: a closed recipient
    participant: {balances: {PTS: 10}}
    recipient: {status: CLOSED}
    steps:
      - {at: 2026-03-01T00:00:00Z, transfer: {asset_id: PTS, amount: 1}, expect: {error_code: participant_inactive}}
""")
    assert diffs == {"gift": [], "a closed recipient": []}


def test_a_redemption_above_the_assets_transaction_limit_is_refused_as_the_ledger_refuses_it():
    bundle = BUNDLE.replace(
        "{symbol: PTS, name: Points, scale: 2}", "{symbol: PTS, name: Points, scale: 2, max_transaction_amount: '20'}"
    )
    loaded = load_bundle_text(
        bundle
        + """
  - name: limit
    participant: {balances: {PTS: 100}}
    steps:
      - at: 2026-03-01T10:00:00Z
        redeem: {reward: Mug, quantity: 2}
        expect: {error_code: max_transaction_amount_exceeded}
      - {at: 2026-03-01T10:00:00Z, redeem: {reward: Mug}, expect: {balances: {PTS: 89.5}}}
""",
        "shop.yaml",
    )
    assert [result.diff for result in run_test_cases(loaded)] == [[]]
