"""The rules of spending: catalog costs and refusals, stock statuses, reversals that never give back
more than was spent, and the reward fields that contradict each other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from engine.model.spending import (
    CatalogItem,
    Cost,
    RedemptionState,
    SpendingRefused,
    redemption_cost,
    redemption_status,
    reversal_of,
    reward_problems,
    stock_status,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


def unit(**fields) -> CatalogItem:
    return CatalogItem(name="coffee", redemption_type="UNIT_BASED", unit_cost=Decimal("2.50"), **fields)


def amount_based(**fields) -> CatalogItem:
    return CatalogItem(name="gift card", redemption_type="AMOUNT_BASED", unit_cost=Decimal(10), **fields)


def cost(item, *, quantity=None, amount=None, now=NOW, held=0) -> Cost:
    return redemption_cost(item, quantity=quantity, amount=amount, now=now, participant_units=held)


def refusal(call) -> tuple[str, dict]:
    with pytest.raises(SpendingRefused) as raised:
        call()
    return raised.value.code, raised.value.details


def test_unit_based_costs_quantity_times_unit_cost_and_defaults_to_one_unit():
    assert cost(unit()) == Cost(Decimal("2.50"), 1, Decimal("2.50"))
    assert cost(unit(), quantity=4) == Cost(Decimal("10.00"), 4, Decimal("2.50"))


def test_amount_based_takes_an_amount_of_at_least_its_unit_cost_as_one_unit():
    assert cost(amount_based(), amount=Decimal(25)) == Cost(Decimal(25), 1, Decimal(10))
    assert refusal(lambda: cost(amount_based(), amount=Decimal(9))) == ("bad_request", {"field": "amount"})
    assert refusal(lambda: cost(amount_based())) == ("bad_request", {"field": "amount"})
    assert refusal(lambda: cost(amount_based(), quantity=1, amount=Decimal(10))) == (
        "bad_request",
        {"field": "quantity"},
    )
    assert refusal(lambda: cost(unit(), amount=Decimal(5))) == ("bad_request", {"field": "amount"})


@pytest.mark.parametrize("status", ["DRAFT", "ARCHIVED"])
def test_only_active_rewards_are_redeemed(status):
    assert refusal(lambda: cost(unit(status=status)))[0] == "reward_not_active"


def test_the_window_is_half_open():
    window = {"available_from": NOW, "available_until": NOW + HOUR}
    assert cost(unit(**window)).quantity == 1
    assert refusal(lambda: cost(unit(**window), now=NOW - timedelta(microseconds=1)))[0] == "reward_not_available"
    assert refusal(lambda: cost(unit(**window), now=NOW + HOUR))[0] == "reward_not_available"


def test_stock_and_the_per_participant_cap():
    assert cost(unit(max_total=10, redeemed_count=9)).quantity == 1
    assert refusal(lambda: cost(unit(max_total=10, redeemed_count=9), quantity=2)) == (
        "out_of_stock",
        {"available": 1},
    )
    assert refusal(lambda: cost(unit(max_total=10, redeemed_count=10, status="OUT_OF_STOCK")))[0] == "out_of_stock"
    assert cost(unit(max_per_participant=2), held=1).quantity == 1
    assert refusal(lambda: cost(unit(max_per_participant=2), held=2)) == ("redemption_limit_exceeded", {"held": 2})


def test_status_follows_the_stock_but_never_revives_a_draft_or_an_archive():
    assert stock_status("ACTIVE", redeemed_count=10, max_total=10) == "OUT_OF_STOCK"
    assert stock_status("OUT_OF_STOCK", redeemed_count=9, max_total=10) == "ACTIVE"
    assert stock_status("ACTIVE", redeemed_count=10, max_total=None) == "ACTIVE"
    assert stock_status("DRAFT", redeemed_count=10, max_total=10) == "DRAFT"
    assert stock_status("ARCHIVED", redeemed_count=0, max_total=10) == "ARCHIVED"


def test_reversals_of_units_add_up_to_the_redemption_and_no_further():
    state = RedemptionState(amount=Decimal("7.50"), redemption_type="UNIT_BASED", quantity=3, unit_cost=Decimal("2.50"))
    assert reversal_of(state, amount=None, quantity=1) == Cost(Decimal("2.50"), 1, Decimal("2.50"))
    state.reversed_amount, state.reversed_quantity = Decimal("2.50"), 1
    assert refusal(lambda: reversal_of(state, amount=None, quantity=3))[0] == "reversal_exceeds_redemption"
    assert reversal_of(state, amount=None, quantity=None) == Cost(Decimal("5.00"), 2, Decimal("2.50"))
    assert refusal(lambda: reversal_of(state, amount=Decimal(1), quantity=None)) == ("bad_request", {"field": "amount"})
    state.reversed_amount, state.reversed_quantity = Decimal("7.50"), 3
    assert refusal(lambda: reversal_of(state, amount=None, quantity=None))[0] == "redemption_fully_reversed"


def test_raw_and_amount_based_reversals_go_by_amount():
    raw = RedemptionState(amount=Decimal(50))
    assert reversal_of(raw, amount=Decimal(20), quantity=None) == Cost(Decimal(20), None, None)
    assert refusal(lambda: reversal_of(raw, amount=Decimal(51), quantity=None)) == (
        "reversal_exceeds_redemption",
        {"left": "50"},
    )
    assert refusal(lambda: reversal_of(raw, amount=None, quantity=1)) == ("bad_request", {"field": "quantity"})
    gift = RedemptionState(amount=Decimal(30), redemption_type="AMOUNT_BASED", quantity=1, unit_cost=Decimal(10))
    assert reversal_of(gift, amount=Decimal(10), quantity=None).quantity == 0  # its unit comes back with the last part
    gift.reversed_amount = Decimal(10)
    assert reversal_of(gift, amount=None, quantity=None) == Cost(Decimal(20), 1, Decimal(10))


def test_a_redemption_status_follows_what_was_reversed():
    assert redemption_status(Decimal(10), Decimal(0)) == "COMPLETED"
    assert redemption_status(Decimal(10), Decimal(4)) == "PARTIALLY_REVERSED"
    assert redemption_status(Decimal(10), Decimal(10)) == "FULLY_REVERSED"


def test_reward_fields_that_contradict_each_other():
    fields = {
        "unit_cost": Decimal(0),
        "max_total": 5,
        "max_per_participant": 1,
        "available_from": NOW,
        "available_until": NOW,
    }
    problems = reward_problems(redemption_type="AMOUNT_BASED", **fields)
    assert [field for field, _ in problems] == ["unit_cost", "max_total", "max_per_participant", "available_until"]
    assert (
        reward_problems(redemption_type="UNIT_BASED", **{**fields, "unit_cost": Decimal(1), "available_until": None})
        == []
    )
