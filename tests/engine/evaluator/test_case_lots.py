"""Lots in test cases: given lots (or balances) of LOT assets, and expected lots, expiries and
maturities."""

from decimal import Decimal

import pytest

from engine.evaluator.case_lots import TestInputError, lots_from_input
from engine.evaluator.cases import run_test_cases
from engine.model.bundle import StateInput
from engine.model.lots import LotStatus
from engine.model.state import Balance
from engine.rules.loader import load_bundle_text
from tests.engine.evaluator.support import T0

BUNDLE = """program: {key: demo, name: Demo}
assets:
  - {symbol: PTS, name: Points, scale: 0}
  - {symbol: MILES, name: Miles, scale: 0, inventory_mode: LOT, spending_order: EXPIRING_FIRST}
rules:
  - name: redeem
    condition: event.type == "redeem"
    actions: [{type: DEBIT, asset_id: MILES, amount: event.miles}]
  - name: earn
    condition: event.type == "flight"
    actions: [{type: CREDIT, asset_id: MILES, amount: event.miles, expires_at: 8760h}]
tests:
"""


def run(tests):
    loaded = load_bundle_text(BUNDLE + tests)
    assert loaded.ok, [p.format() for p in loaded.problems]
    return [(result.name, result.passed, result.diff) for result in run_test_cases(loaded)]


def test_given_lots_are_spent_in_order_and_expired_lots_are_reported():
    found = run("""
  - name: spend the soonest expiry
    event: {type: redeem, miles: 30}
    received_at: "2026-06-01T00:00:00Z"
    participant:
      lots:
        MILES:
          - {amount: 50, created_at: "2025-01-01T00:00:00Z", expires_at: "2026-05-01T00:00:00Z"}
          - {amount: 40, created_at: "2025-06-01T00:00:00Z", expires_at: "2027-01-01T00:00:00Z"}
          - {amount: 20, created_at: "2026-01-01T00:00:00Z", expires_at: "2026-09-01T00:00:00Z"}
    expect:
      status: COMPLETED
      expired: {MILES: 50}
      balances: {MILES: 30}
      lots:
        MILES:
          - {remaining: 30, expires_at: "2027-01-01T00:00:00Z"}
""")
    assert found == [("spend the soonest expiry", True, [])]


def test_wrong_lot_expectations_say_what_differs():
    found = run("""
  - name: wrong
    event: {type: flight, miles: 10}
    participant:
      lots:
        MILES: [{amount: 5, status: DEFERRED, matures_at: "2025-01-01T00:00:00Z"}]
    expect:
      matured: {MILES: 4}
      expired: {MILES: 1}
      lots:
        MILES: [{remaining: 10}, {remaining: 6, status: HELD}]  # soonest expiry first
""")
    ((_, passed, diff),) = found
    assert not passed
    assert diff[:4] == [
        "lots.MILES[1].remaining: expected 6, got 5",
        "lots.MILES[1].status: expected HELD, got AVAILABLE",
        "expired.MILES: expected 1, got 0",
        "matured.MILES: expected 4, got 5",
    ]


def test_a_balance_of_a_lot_asset_becomes_lots_earned_at_the_evaluation_time():
    balances = {"MILES": Balance(available=Decimal(8), held=Decimal(5), deferred=Decimal(2))}
    holds = {"MILES": {"auth": Decimal(3)}}
    loaded = load_bundle_text(BUNDLE)
    lots = lots_from_input(StateInput(), loaded.bundle, T0, balances, holds)
    assert [
        (lot.remaining, lot.status, lot.reference_id, lot.provisional, lot.created_at) for lot in lots["MILES"]
    ] == [
        (Decimal(8), LotStatus.AVAILABLE, None, False, T0),
        (Decimal(3), LotStatus.HELD, "auth", True, T0),
        (Decimal(2), LotStatus.HELD, None, False, T0),
        (Decimal(2), LotStatus.DEFERRED, None, False, T0),
    ]


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("lots: {PTS: [{amount: 1}]}", "lots are given for PTS, which is not a LOT asset"),
        ("lots: {MILES: [{amount: 1, remaining: 2}]}", "remaining must be above 0 and at most the amount"),
        ("lots: {MILES: [{amount: 1}]}\n      balances: {MILES: 3}", "balance MILES differs from the sums of its lots"),
    ],
)
def test_lots_that_cannot_be_state_fail_the_case_with_the_reason(state, message):
    ((_, passed, diff),) = run(f"""
  - name: bad
    event: {{type: flight, miles: 1}}
    participant:
      {state}
""")
    assert not passed and message in diff[0]


def test_lot_input_errors_are_engine_errors_with_a_code():
    assert TestInputError("x").code == "invalid_test_input"
