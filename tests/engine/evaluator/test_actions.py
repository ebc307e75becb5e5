"""Each action type resolved and applied, through the evaluator so routing and rollback are real."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.evaluator.evaluate import evaluate_event
from engine.model.state import Balance, BudgetState, EvaluationInput, ProgramState
from tests.engine.evaluator.support import T0, bundle, event, person, rule


def run(*actions, data=None, condition="true", budgets=None, rule_budgets=(), **state):
    program = bundle(rule("r", condition, *actions, budgets=list(rule_budgets)))
    inputs = EvaluationInput(
        event=event(data or {"amount": 12.0}),
        participant=state.pop("participant", person()),
        budgets=budgets or {},
        **state,
    )
    return evaluate_event(program, inputs)


def credit(amount, asset="PTS", **extra):
    return {"type": "CREDIT", "asset_id": asset, "amount": amount, **extra}


def test_credit_resolves_the_amount_and_raises_the_balance():
    result = run(credit("event.amount * 10.0"))
    assert result.status == "COMPLETED"
    (action,) = result.actions
    assert (action.type, action.asset, action.amount, action.bucket) == ("CREDIT", "PTS", Decimal(120), "AVAILABLE")
    assert result.participant.balances["PTS"].available == Decimal(120)


@pytest.mark.parametrize(
    ("amount", "code", "message"),
    [
        ("event.amount * 0.001", "invalid_scale", "action CREDIT failed: amount exceeds asset scale"),
        ("event.amount - 12.0", "invalid_amount", "action CREDIT failed: amount must be positive"),
        ("event.missing", "DSL_NO_SUCH_KEY", "action CREDIT failed: no such key"),
        ("event.amount > 1.0", "invalid_amount", "action CREDIT failed: amount must be a number, got bool"),
    ],
)
def test_a_failing_amount_fails_the_event_and_keeps_the_state(amount, code, message):
    before = person(tags=["keep"], balances={"PTS": {"available": 5}})
    result = run({"type": "TAG", "tag": "new"}, credit(amount), participant=before)
    assert (result.status, result.error_code) == ("FAILED", code)
    assert result.error_message.startswith(message)
    assert result.participant == before and result.participant.tags == ["keep"]
    assert result.actions == [] and result.state_changes == []
    assert result.rules[-1].error_code == code


def test_max_transaction_amount():
    result = run(credit("event.amount * 100.0", asset="USD"))
    assert result.error_code == "max_transaction_amount_exceeded"


def test_credit_to_held_with_reference_then_void_hold_in_a_later_event():
    first = run(credit(50, bucket="HELD", reference_id="event.order"), data={"order": "o-1"})
    held = first.participant
    assert held.balances["PTS"].held == Decimal(50) and held.holds == {"PTS": {"o-1": Decimal(50)}}
    second = run(
        {"type": "VOID_HOLD", "asset_id": "PTS", "reference_id": "event.order"}, data={"order": "o-1"}, participant=held
    )
    assert second.status == "COMPLETED"
    assert second.actions[0].amount == Decimal(50)
    assert second.participant.balances["PTS"].held == 0 and second.participant.holds == {"PTS": {}}
    unknown = run({"type": "VOID_HOLD", "asset_id": "PTS", "reference_id": "'o-2'"}, participant=held)
    assert unknown.error_code == "hold_not_found"


@pytest.mark.parametrize("status", ["SUSPENDED", "CLOSED"])
def test_an_inactive_participant_refuses_balance_actions_but_not_void_hold(status):
    held = person(status=status, balances={"PTS": {"held": 4}}, holds={"PTS": {"o-1": 4}})
    void = run({"type": "VOID_HOLD", "asset_id": "PTS", "reference_id": "'o-1'"}, participant=held)
    assert (void.status, void.participant.balances["PTS"].held) == ("COMPLETED", 0)
    refused = run(credit(1), participant=held)
    assert (refused.status, refused.error_code) == ("FAILED", "participant_inactive")


def test_matures_at_in_the_future_credits_deferred():
    result = run(credit(5, asset="MILES", matures_at="720h", expires_at="2027-01-01T00:00:00Z"))
    (action,) = result.actions
    assert action.bucket == "DEFERRED"
    assert action.matures_at == T0 + timedelta(hours=720)
    assert action.expires_at == datetime(2027, 1, 1, tzinfo=UTC)
    assert result.participant.balances["MILES"].deferred == Decimal(5)


def test_a_maturity_already_past_credits_available_at_once():
    result = run(credit(5, matures_at="2025-06-01T00:00:00Z"))
    (action,) = result.actions
    assert (action.bucket, action.matures_at) == ("AVAILABLE", datetime(2025, 6, 1, tzinfo=UTC))
    assert result.participant.balances["PTS"].available == Decimal(5)
    assert result.participant.balances["PTS"].deferred == 0


def test_debit_needs_available_funds_unless_allow_negative():
    rich = person(balances={"PTS": {"available": 20}})
    assert (
        run({"type": "DEBIT", "asset_id": "PTS", "amount": 20}, participant=rich).participant.balances["PTS"].available
        == 0
    )
    poor = run({"type": "DEBIT", "asset_id": "PTS", "amount": 21}, participant=rich)
    assert poor.error_code == "insufficient_funds"
    negative = run({"type": "DEBIT", "asset_id": "PTS", "amount": 21, "allow_negative": True}, participant=rich)
    assert negative.participant.balances["PTS"].available == Decimal(-1)


def test_hold_release_and_forfeit_move_between_buckets():
    start = person(balances={"PTS": {"available": 10}})
    result = run(
        {"type": "HOLD", "asset_id": "PTS", "amount": 8, "reference_id": "'auth-1'"},
        {"type": "RELEASE", "asset_id": "PTS", "amount": 3, "reference_id": "'auth-1'"},
        {"type": "FORFEIT", "asset_id": "PTS", "amount": 2, "bucket": "HELD"},
        participant=start,
    )
    balance = result.participant.balances["PTS"]
    assert (balance.available, balance.held) == (Decimal(5), Decimal(3))
    assert result.participant.holds == {"PTS": {"auth-1": Decimal(5)}}
    assert run({"type": "HOLD", "asset_id": "PTS", "amount": 11}, participant=start).error_code == "insufficient_funds"
    assert (
        run({"type": "RELEASE", "asset_id": "PTS", "amount": 1}, participant=start).error_code == "insufficient_funds"
    )


def test_prefunded_assets_draw_from_the_program_wallet():
    wallet = ProgramState(wallet={"GIFT": Balance(available=Decimal("10.00"))})
    result = run(credit(7.5, asset="GIFT"), program_state=wallet)
    assert result.program.wallet["GIFT"].available == Decimal("2.50")
    assert wallet.wallet["GIFT"].available == Decimal("10.00")  # the input is never changed
    short = run(credit(7.5, asset="GIFT"), credit(7.5, asset="GIFT"), program_state=wallet)
    assert short.error_code == "insufficient_wallet"
    assert run(credit(1, asset="GIFT")).error_code == "insufficient_wallet"


@pytest.mark.parametrize("status", ["SUSPENDED", "CLOSED"])
def test_inactive_participants_block_money_and_counters_but_not_metadata(status):
    blocked = run(credit(1), participant=person(status=status))
    assert (blocked.status, blocked.error_code) == ("FAILED", "participant_inactive")
    counter = run({"type": "COUNTER", "key": "n", "value": 1}, participant=person(status=status))
    assert counter.error_code == "participant_inactive"
    allowed = run(
        {"type": "TAG", "tag": "Frozen"},
        {"type": "SET_ATTRIBUTE", "key": "note", "value": "x"},
        {"type": "SET_TIER", "tier": "status", "level": "gold"},
        {"type": "SCHEDULE_EVENT", "event_name": "wake", "delay": "24h", "payload": {"a": 1}},
        {"type": "BROADCAST", "event_name": "hello"},
        participant=person(status=status),
    )
    assert allowed.status == "COMPLETED"
    assert allowed.participant.tags == ["frozen"]
    assert allowed.participant.tiers["status"].level == "gold"
    assert [a.type for a in allowed.actions][-2:] == ["SCHEDULE_EVENT", "BROADCAST"]
    assert allowed.actions[3].delay == "24h" and allowed.actions[3].payload == {"a": 1}


def test_set_tier_on_an_archived_tier_is_skipped_and_the_event_completes():
    from tests.engine.evaluator.support import TIERS

    archived = [{**TIERS[0], "status": "ARCHIVED"}]
    program = bundle(
        rule("r", "true", {"type": "SET_TIER", "tier": "status", "level": "gold"}, {"type": "TAG", "tag": "seen"}),
        tiers=archived,
    )
    result = evaluate_event(program, EvaluationInput(event=event(), participant=person(tiers={})))
    assert result.status == "COMPLETED"
    recorded = result.rules[0].actions  # the rule's outcome keeps every action; result.actions the applied ones
    assert [(a.type, a.status) for a in recorded] == [("SET_TIER", "SKIPPED"), ("TAG", "APPLIED")]
    assert (recorded[0].tier, recorded[0].level) == ("status", "gold")
    assert [a.type for a in result.actions] == ["TAG"]
    assert result.participant.tiers == {} and result.participant.tags == ["seen"]
    assert [c.state_type for c in result.state_changes] == ["tag"]


def test_recipient_routing():
    sender, recipient = person("alice"), person("bob")
    program = bundle(
        rule(
            "gift",
            "recipient != null",
            credit(5),
            credit(1, target={"type": "PARTICIPANT"}),
            credit(2, target={"type": "PARTICIPANT", "external_id": "event.friend"}),
            credit(3, target={"type": "PARTICIPANT", "external_id": "'bob'"}),
            {"type": "TAG", "tag": "team", "target": {"type": "GROUP", "id": "'g-1'"}},
            {"type": "COUNTER", "key": "gifts", "value": 1, "target": {"type": "PROGRAM"}},
        )
    )
    result = evaluate_event(
        program, EvaluationInput(event=event({"friend": "carol"}), participant=sender, recipient=recipient)
    )
    targets = [(a.target.type, a.target.role, a.target.external_id or a.target.id) for a in result.actions]
    assert targets == [
        ("PARTICIPANT", "recipient", "bob"),
        ("PARTICIPANT", "participant", "alice"),
        ("PARTICIPANT", None, "carol"),
        ("PARTICIPANT", "recipient", "bob"),
        ("GROUP", None, "g-1"),
        ("PROGRAM", None, None),
    ]
    assert result.recipient.balances["PTS"].available == Decimal(8)
    assert result.participant.balances["PTS"].available == Decimal(1)
    assert result.program.counters["gifts"].value == Decimal(1)


def test_target_expressions_must_give_text():
    result = run(credit(1, target={"type": "PARTICIPANT", "id": "event.amount"}))
    assert result.error_code == "invalid_target"


def test_budget_suppresses_a_credit_that_does_not_fit_whole():
    limit = [{"asset_id": "PTS", "limit": "100"}]
    fits = run(credit(60), rule_budgets=limit, budgets={("r", "PTS"): BudgetState(consumed=Decimal(40))})
    assert fits.rules[0].status == "MATCHED"
    assert [(u.rule, u.asset, u.amount) for u in fits.budget_uses] == [("r", "PTS", Decimal(60))]
    over = run(
        credit(61),
        {"type": "TAG", "tag": "seen"},
        rule_budgets=limit,
        budgets={("r", "PTS"): BudgetState(consumed=Decimal(40))},
    )
    assert over.status == "COMPLETED"
    assert over.rules[0].status == "BUDGET_EXCEEDED"
    assert [a.status for a in over.rules[0].actions] == ["SUPPRESSED", "APPLIED"]
    assert [a.type for a in over.actions] == ["TAG"]
    assert over.budget_uses == [] and "PTS" not in over.participant.balances


def test_counters_increment_create_and_keep_reset_after():
    result = run(
        {"type": "COUNTER", "key": "spend", "value": "event.amount", "reset_after": "720h"},
        {"type": "COUNTER", "key": "spend", "value": 0.5},
    )
    counter = result.participant.counters["spend"]
    assert (counter.value, counter.reset_after, counter.last_reset_at) == (Decimal("12.5"), "720h", T0)
    assert [(c.old_value, c.new_value) for c in result.state_changes] == [(None, "12"), ("12", "12.5")]


def test_tags_are_lower_cased_sets():
    result = run(
        {"type": "TAG", "tag": "VIP"},
        {"type": "TAG", "tag": "vip"},
        {"type": "UNTAG", "tag": "Old"},
        {"type": "UNTAG", "tag": "absent"},
        participant=person(tags=["old", "b"]),
    )
    assert result.participant.tags == ["b", "vip"]
    assert [(c.operation, c.key) for c in result.state_changes] == [("add", "vip"), ("remove", "old")]


_MOVES = st.lists(
    st.tuples(st.sampled_from(["CREDIT", "DEBIT", "HOLD", "RELEASE", "FORFEIT"]), st.integers(1, 60)),
    min_size=1,
    max_size=8,
)


@settings(max_examples=120, deadline=None)
@given(moves=_MOVES, available=st.integers(0, 100), held=st.integers(0, 100), limit=st.integers(1, 150))
def test_money_is_conserved_or_nothing_happens(moves, available, held, limit):
    actions = [{"type": kind, "asset_id": "PTS", "amount": amount} for kind, amount in moves]
    start = person(balances={"PTS": {"available": available, "held": held}})
    result = run(*actions, participant=start, rule_budgets=[{"asset_id": "PTS", "limit": str(limit)}])
    if result.status == "FAILED":
        assert result.participant is start and result.actions == [] and result.budget_uses == []
        assert result.error_code == "insufficient_funds"
        return
    balance = result.participant.balances["PTS"]
    signed = {"CREDIT": 1, "DEBIT": -1, "FORFEIT": -1, "HOLD": 0, "RELEASE": 0}
    net = sum(signed[a.type] * a.amount for a in result.actions)
    assert balance.available + balance.held == available + held + net
    assert balance.available >= 0 and balance.held >= 0
    credited = sum(a.amount for a in result.actions if a.type == "CREDIT")
    assert credited == sum(use.amount for use in result.budget_uses) <= limit


def test_large_amounts_at_scale_18_are_summed_exactly():
    assets = [{"symbol": "WEI", "name": "Wei", "scale": 18}]
    program = bundle(rule("r", "true", credit("0.000000000000000001", asset="WEI")), assets=assets, tiers=[])
    rich = person(balances={"WEI": {"available": "100000000000000000000000"}})
    result = evaluate_event(program, EvaluationInput(event=event(), participant=rich))
    assert result.participant.balances["WEI"].available == Decimal("100000000000000000000000.000000000000000001")


def test_a_nan_balance_fails_the_action_instead_of_raising():
    broken = person(balances={"PTS": {"available": "NaN"}})
    result = run({"type": "DEBIT", "asset_id": "PTS", "amount": 1}, participant=broken)
    assert (result.status, result.error_code) == ("FAILED", "invalid_amount")
