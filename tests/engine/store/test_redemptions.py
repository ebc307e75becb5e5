"""Redemptions and reversals in storage: one balanced entry each, to and from the program's
redemption target captured at redemption time; catalog stock and caps; idempotent replays;
reversals that add up to at most the redemption."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from engine.model.rewards import Reward
from engine.model.spending import SpendingRefused
from engine.store import operations as ops
from engine.store.errors import Conflict, LedgerRejected, NotFound
from engine.store.ledger.verify import verify
from engine.store.models import Account, JournalEntry, Posting, RedemptionRecord, ReversalRecord
from engine.store.redemptions import redeem, redeem_item, reverse
from engine.store.rewards import create_reward, reward_row


def fund(world, participant=None, amount="100"):
    person = participant or world.alice
    ops.adjust_balance(
        world.org.id, person.id, program_id=world.program.id, asset_id="PTS", type="CREDIT", amount=amount,
        description="earned",
    )  # fmt: skip


def available(world, participant=None) -> Decimal:
    person = participant or world.alice
    account = Account.get_or_none(
        (Account.entity_type == "PARTICIPANT") & (Account.entity_id == person.id) & (Account.bucket == "AVAILABLE")
    )
    return Decimal(0) if account is None else Decimal(account.balance)


def raw(world, amount="30", **extra):
    return redeem(
        world.org.id, world.alice.id, program_id=world.program.id, asset_id="PTS", amount=amount,
        description="gift card", **extra,
    )  # fmt: skip


def coffee(world, **fields):
    base = {"name": "Coffee", "redemption_type": "UNIT_BASED", "asset_id": "PTS", "unit_cost": "10"}
    return create_reward(world.org.id, world.program.id, Reward(**{**base, **fields}))


def item(world, reward, participant=None, **extra):
    person = participant or world.alice
    return redeem_item(world.org.id, person.id, program_id=world.program.id, reward_id=reward.id, **extra)


def test_a_raw_redemption_moves_available_value_to_system_redemption_in_one_entry(world):
    fund(world)
    result, replayed = raw(world, "30.5")
    assert (replayed, result.amount, result.status, result.redemption_target_type) == (
        False,
        Decimal("30.50"),
        "COMPLETED",
        "SYSTEM_REDEMPTION",
    )
    assert available(world) == Decimal("69.50")
    entry = JournalEntry.get_by_id(result.journal_entry_id)
    legs = sorted((p.account.entity_id, Decimal(p.amount)) for p in Posting.select().where(Posting.entry == entry))
    assert entry.action_type == "REDEMPTION" and entry.reference_id == result.id
    assert legs == sorted([(world.alice.id, Decimal("-30.50")), ("SYSTEM_REDEMPTION", Decimal("30.50"))])
    assert verify().ok


def test_a_redemption_needs_funds_an_active_participant_and_a_linked_asset(world):
    fund(world, amount="10")
    with pytest.raises(LedgerRejected) as raised:
        raw(world, "10.01")
    assert raised.value.code == "insufficient_funds"
    world.alice.status = "SUSPENDED"
    world.alice.save()
    with pytest.raises(Conflict) as refused:
        raw(world, "1")
    assert refused.value.code == "participant_inactive"
    assert RedemptionRecord.select().count() == 0 and available(world) == Decimal("10.00")


def test_an_idempotency_key_answers_the_same_redemption_and_refuses_another_body(world):
    fund(world)
    first, replayed = raw(world, "10", idempotency_key="k1")
    again, replayed_again = raw(world, "10.0", idempotency_key="k1")
    assert (replayed, replayed_again, again.id) == (False, True, first.id)
    with pytest.raises(Conflict) as raised:
        raw(world, "11", idempotency_key="k1")
    assert raised.value.code == "idempotency_conflict"
    assert available(world) == Decimal("90.00")


def test_the_target_is_captured_so_reversals_give_back_from_where_the_value_went(world):
    fund(world)
    world.program.redemption_target_type, world.program.redemption_target_id = "LEDGER_ENTITY", world.bob.id
    world.program.save()
    result, _ = raw(world, "40")
    assert (result.redemption_target_type, available(world, world.bob)) == ("LEDGER_ENTITY", Decimal("40.00"))
    world.program.redemption_target_type, world.program.redemption_target_id = "SYSTEM_BREAKAGE", None
    world.program.save()
    reverse(world.org.id, result.id, reason="cancelled", amount="15")
    assert (available(world), available(world, world.bob)) == (Decimal("75.00"), Decimal("25.00"))
    assert verify().ok


def test_catalog_redemptions_cost_quantity_times_unit_cost_and_count_units(world):
    fund(world)
    reward = coffee(world, max_total=3)
    result, _ = item(world, reward, quantity=2)
    assert (result.amount, result.quantity, result.unit_cost, result.reward_id) == (
        Decimal("20.00"),
        2,
        Decimal("10.00"),
        reward.id,
    )
    assert (reward_row(world.org.id, world.program.id, reward.id).redeemed_count, available(world)) == (
        2,
        Decimal("80.00"),
    )
    item(world, reward)
    assert reward_row(world.org.id, world.program.id, reward.id).status == "OUT_OF_STOCK"
    with pytest.raises(SpendingRefused) as raised:
        item(world, reward)
    assert raised.value.code == "out_of_stock"
    reverse(world.org.id, result.id, reason="returned", quantity=1)
    row = reward_row(world.org.id, world.program.id, reward.id)
    assert (row.redeemed_count, row.status) == (2, "ACTIVE")


def test_the_per_participant_cap_counts_units_held_and_reversals_free_them(world):
    fund(world)
    fund(world, world.bob)
    reward = coffee(world, max_per_participant=2)
    first, _ = item(world, reward, quantity=2)
    with pytest.raises(SpendingRefused) as raised:
        item(world, reward)
    assert (raised.value.code, raised.value.details["held"]) == ("redemption_limit_exceeded", 2)
    item(world, reward, world.bob, quantity=2)
    reverse(world.org.id, first.id, reason="returned", quantity=1)
    item(world, reward)


def test_amount_based_rewards_take_an_amount_of_at_least_the_unit_cost(world):
    fund(world)
    reward = coffee(world, name="Voucher", redemption_type="AMOUNT_BASED", unit_cost="5")
    with pytest.raises(SpendingRefused) as raised:
        item(world, reward, amount="4.99")
    assert raised.value.details["field"] == "amount"
    result, _ = item(world, reward, amount="12.5")
    assert (result.amount, result.quantity) == (Decimal("12.50"), 1)
    assert reward_row(world.org.id, world.program.id, reward.id).redeemed_count == 1


def test_draft_archived_and_out_of_window_rewards_are_refused(world):
    fund(world)
    draft = coffee(world, status="DRAFT")
    with pytest.raises(SpendingRefused) as raised:
        item(world, draft)
    assert raised.value.code == "reward_not_active"
    later = coffee(world, name="Later", available_from=datetime(2999, 1, 1, tzinfo=UTC))
    with pytest.raises(SpendingRefused) as raised:
        item(world, later)
    assert raised.value.code == "reward_not_available"
    assert available(world) == Decimal("100.00")


def test_partial_reversals_add_up_to_at_most_the_redemption(world):
    fund(world)
    result, _ = raw(world, "30")
    first, _ = reverse(world.org.id, result.id, reason="part", amount="10")
    assert (first.amount, first.redemption.status, first.redemption.reversed_amount) == (
        Decimal("10.00"),
        "PARTIALLY_REVERSED",
        Decimal("10.00"),
    )
    with pytest.raises(SpendingRefused) as raised:
        reverse(world.org.id, result.id, reason="too much", amount="20.01")
    assert raised.value.code == "reversal_exceeds_redemption"
    rest, _ = reverse(world.org.id, result.id, reason="rest")
    assert (rest.amount, rest.redemption.status) == (Decimal("20.00"), "FULLY_REVERSED")
    with pytest.raises(SpendingRefused) as raised:
        reverse(world.org.id, result.id, reason="again")
    assert raised.value.code == "redemption_fully_reversed"
    assert available(world) == Decimal("100.00") and ReversalRecord.select().count() == 2
    assert verify().ok


def test_a_reversal_is_idempotent_and_needs_a_reason(world):
    fund(world)
    result, _ = raw(world, "30")
    first, replayed = reverse(world.org.id, result.id, reason="r", amount="5", idempotency_key="rk")
    again, replayed_again = reverse(world.org.id, result.id, reason="r", amount="5.00", idempotency_key="rk")
    assert (replayed, replayed_again, again.id) == (False, True, first.id)
    with pytest.raises(Conflict):
        reverse(world.org.id, result.id, reason="r", amount="6", idempotency_key="rk")
    with pytest.raises(LedgerRejected) as raised:
        reverse(world.org.id, result.id, reason="")
    assert raised.value.details["field"] == "reason"
    assert available(world) == Decimal("75.00")


def test_another_organisations_redemption_is_not_found(world):
    fund(world)
    result, _ = raw(world, "1")
    from engine.store.models import Organisation

    other = Organisation.create(name="other")
    with pytest.raises(NotFound):
        reverse(other.id, result.id, reason="x")


def test_a_redemption_not_reversed_answers_zero_at_the_assets_scale(world):
    fund(world)
    result, _ = raw(world, "1")
    assert format(result.reversed_amount, "f") == "0.00"
