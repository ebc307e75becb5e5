"""Balance actions on LOT assets: each action moves the lots the balances are made of."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from engine.evaluator.evaluate import evaluate_event
from engine.model.lots import Lot, LotStatus
from engine.model.state import Balance, EvaluationInput, GroupState
from tests.engine.evaluator.support import T0, bundle, event, person, rule

DAY = timedelta(days=1)


def lot(lot_id, remaining, status="AVAILABLE", *, earned=T0 - 10 * DAY, expires=None, matures=None, **extra):
    return Lot(
        id=lot_id,
        amount=Decimal(remaining),
        remaining=Decimal(remaining),
        status=LotStatus(status),
        created_at=earned,
        expires_at=expires,
        matures_at=matures,
        **extra,
    )


def holder(symbol, *lots, holds=None):
    sums = {"available": Decimal(0), "held": Decimal(0), "deferred": Decimal(0)}
    for item in lots:
        sums[item.status.lower()] += item.remaining
    return person(balances={symbol: sums}, lots={symbol: list(lots)}, holds=holds or {})


def run(*actions, participant=None, data=None):
    program = bundle(rule("r", "true", *actions))
    inputs = EvaluationInput(event=event(data or {"amount": 12.0}), participant=participant or person())
    return evaluate_event(program, inputs)


def remaining(result, symbol):
    return [(item.id, item.remaining, item.status) for item in result.participant.lots.get(symbol, [])]


def test_a_credit_makes_a_lot_dated_from_the_receive_time():
    result = run({"type": "CREDIT", "asset_id": "MILES", "amount": 40, "expires_at": "8760h", "reference_id": "'o-1'"})
    assert result.status == "COMPLETED"
    (made,) = result.participant.lots["MILES"]
    assert (made.amount, made.remaining, made.status) == (Decimal(40), Decimal(40), LotStatus.AVAILABLE)
    assert (made.created_at, made.expires_at) == (T0, T0 + timedelta(hours=8760))
    assert result.participant.balances["MILES"].available == Decimal(40)


def test_a_deferred_credit_makes_a_deferred_lot_and_a_simple_credit_makes_none():
    result = run(
        {"type": "CREDIT", "asset_id": "MILES", "amount": 5, "matures_at": "720h"},
        {"type": "CREDIT", "asset_id": "PTS", "amount": 5},
    )
    (made,) = result.participant.lots["MILES"]
    assert (made.status, made.matures_at) == (LotStatus.DEFERRED, T0 + timedelta(hours=720))
    assert "PTS" not in result.participant.lots


def test_cel_expiry_is_evaluated_against_the_event():
    expiry = "timestamp('2027-03-01T00:00:00Z') + duration(string(int(event.amount)) + 'h')"
    result = run({"type": "CREDIT", "asset_id": "MILES", "amount": 1, "expires_at": expiry})
    assert result.participant.lots["MILES"][0].expires_at == datetime(2027, 3, 1, 12, tzinfo=UTC)
    text = run({"type": "CREDIT", "asset_id": "MILES", "amount": 1, "expires_at": "'48h'"})
    assert text.participant.lots["MILES"][0].expires_at == T0 + timedelta(hours=48)


def test_a_cel_expiry_of_the_wrong_type_fails_the_event_with_a_code():
    result = run({"type": "CREDIT", "asset_id": "MILES", "amount": 1, "expires_at": "event.amount"})
    assert (result.status, result.error_code) == ("FAILED", "invalid_duration")


def test_fifo_spends_the_oldest_earned_first():
    old = lot("a", 10, earned=T0 - 30 * DAY, expires=T0 + 300 * DAY)
    new = lot("b", 10, earned=T0 - 5 * DAY, expires=T0 + 3 * DAY)
    result = run({"type": "DEBIT", "asset_id": "MILES", "amount": 12}, participant=holder("MILES", new, old))
    assert remaining(result, "MILES") == [("b", Decimal(8), LotStatus.AVAILABLE)]


def test_expiring_first_spends_the_soonest_expiry_first_and_never_expiring_lots_last():
    forever = lot("a", 10, earned=T0 - 30 * DAY)
    late = lot("b", 10, earned=T0 - 20 * DAY, expires=T0 + 300 * DAY)
    soon = lot("c", 10, earned=T0 - 5 * DAY, expires=T0 + 3 * DAY)
    result = run({"type": "DEBIT", "asset_id": "STARS", "amount": 15}, participant=holder("STARS", forever, late, soon))
    assert remaining(result, "STARS") == [("a", Decimal(10), LotStatus.AVAILABLE), ("b", Decimal(5), "AVAILABLE")]


def test_expired_lots_are_settled_before_the_rules_and_never_spent():
    gone = lot("a", 10, expires=T0 - DAY)
    live = lot("b", 4)
    result = run(
        {"type": "DEBIT", "asset_id": "MILES", "amount": 5}, participant=holder("MILES", gone, live)
    )  # 14 on the books, 4 spendable
    assert (result.status, result.error_code) == ("FAILED", "insufficient_funds")
    ok = run({"type": "DEBIT", "asset_id": "MILES", "amount": 4}, participant=holder("MILES", gone, live))
    assert ok.status == "COMPLETED"
    assert [(s.lot_id, s.kind, s.amount) for s in ok.settled] == [("a", "EXPIRED", Decimal(10))]
    assert ok.participant.balances["MILES"].available == 0 and remaining(ok, "MILES") == []


def test_a_due_deferred_lot_matures_and_can_be_spent_by_the_same_event():
    pending = lot("a", 6, "DEFERRED", matures=T0 - DAY)
    result = run({"type": "DEBIT", "asset_id": "MILES", "amount": 6}, participant=holder("MILES", pending))
    assert result.status == "COMPLETED"
    assert [(s.kind, s.amount) for s in result.settled] == [("MATURED", Decimal(6))]
    assert result.participant.balances["MILES"].deferred == 0 and remaining(result, "MILES") == []


def test_allow_negative_consumes_the_lots_then_overdraws_and_a_later_credit_repays_first():
    owner = holder("MILES", lot("a", 3))
    result = run(
        {"type": "DEBIT", "asset_id": "MILES", "amount": 5, "allow_negative": True},
        {"type": "CREDIT", "asset_id": "MILES", "amount": 10},
        participant=owner,
    )
    assert result.participant.balances["MILES"].available == Decimal(8)
    (made,) = result.participant.lots["MILES"]
    assert (made.amount, made.remaining) == (Decimal(10), Decimal(8))  # 2 of it repaid the overdraft


def test_a_release_into_an_overdrawn_balance_repays_the_overdraft_from_the_released_lots():
    result = run(
        {"type": "DEBIT", "asset_id": "MILES", "amount": 3, "allow_negative": True},
        {"type": "RELEASE", "asset_id": "MILES", "amount": 5, "reference_id": "'r1'"},
        participant=holder("MILES", lot("h", 5, "HELD", reference_id="r1"), holds={"MILES": {"r1": Decimal(5)}}),
    )
    assert result.status == "COMPLETED", result.error_message
    balance = result.participant.balances["MILES"]
    assert (balance.available, balance.held) == (Decimal(2), Decimal(0))
    # the open lots add up to the balance: 3 of the released 5 repaid the overdraft
    assert remaining(result, "MILES") == [("h", Decimal(2), LotStatus.AVAILABLE)]


def test_hold_keeps_the_dates_and_stamps_the_reference_and_release_by_reference_takes_only_its_lots():
    dated = lot("a", 10, expires=T0 + 90 * DAY)
    result = run(
        {"type": "HOLD", "asset_id": "MILES", "amount": 4, "reference_id": "'o-1'"},
        {"type": "HOLD", "asset_id": "MILES", "amount": 3, "reference_id": "'o-2'"},
        {"type": "RELEASE", "asset_id": "MILES", "amount": 3, "reference_id": "'o-2'"},
        participant=holder("MILES", dated),
    )
    assert result.status == "COMPLETED"
    held = [item for item in result.participant.lots["MILES"] if item.status == LotStatus.HELD]
    assert [(item.remaining, item.reference_id, item.expires_at) for item in held] == [
        (Decimal(4), "o-1", T0 + 90 * DAY)
    ]
    assert result.participant.holds["MILES"] == {"o-1": Decimal(4)}
    assert result.participant.balances["MILES"].available == Decimal(6)


def test_void_hold_cancels_only_what_was_credited_into_held():
    owner = holder("MILES", lot("a", 10))
    result = run(
        {"type": "CREDIT", "asset_id": "MILES", "amount": 7, "bucket": "HELD", "reference_id": "'auth'"},
        {"type": "HOLD", "asset_id": "MILES", "amount": 2, "reference_id": "'auth'"},
        {"type": "VOID_HOLD", "asset_id": "MILES", "reference_id": "'auth'"},
        participant=owner,
    )
    assert result.status == "COMPLETED"
    assert result.actions[2].amount == Decimal(7)
    assert result.participant.balances["MILES"].held == Decimal(2)  # the HOLD's 2 stay held
    assert result.participant.holds["MILES"] == {"auth": Decimal(2)}


@pytest.mark.parametrize("bucket", ["AVAILABLE", "HELD"])
def test_forfeit_takes_lots_of_its_bucket(bucket):
    owner = holder("MILES", lot("a", 5), lot("b", 5, "HELD", reference_id="x"), holds={"MILES": {"x": Decimal(5)}})
    result = run({"type": "FORFEIT", "asset_id": "MILES", "amount": 5, "bucket": bucket}, participant=owner)
    assert result.status == "COMPLETED"
    assert [item.status for item in result.participant.lots["MILES"]] == [
        LotStatus.HELD if bucket == "AVAILABLE" else LotStatus.AVAILABLE
    ]


def group_holder(symbol, *lots):
    sums = {"available": Decimal(0), "held": Decimal(0), "deferred": Decimal(0)}
    for item in lots:
        sums[item.status.lower()] += item.remaining
    return GroupState(id="g1", balances={symbol: Balance(**sums)}, lots={symbol: list(lots)})


def run_group(group, *actions):
    program = bundle(rule("r", "true", *actions))
    return evaluate_event(program, EvaluationInput(event=event({}), participant=person(), group=group))


GROUP = {"type": "GROUP", "id": "group.id"}


def test_the_named_groups_lots_are_settled_spent_and_credited_as_a_participants():
    lapsed = lot("a", 5, expires=T0 - DAY)
    old = lot("b", 10, earned=T0 - 30 * DAY)
    new = lot("c", 10, earned=T0 - 5 * DAY)
    result = run_group(
        group_holder("MILES", lapsed, old, new),
        {"type": "DEBIT", "asset_id": "MILES", "amount": 12, "target": GROUP},
        {"type": "CREDIT", "asset_id": "MILES", "amount": 4, "target": GROUP},
    )
    assert result.status == "COMPLETED"
    lots = [(item.id, item.remaining) for item in result.group.lots["MILES"]]
    assert lots == [("c", Decimal(8)), ("new-1", Decimal(4))]  # the oldest spent first, the expired one gone
    assert result.group.balances["MILES"] == Balance(available=Decimal(12))
    assert [(s.role, s.lot_id, s.kind) for s in result.settled] == [("group", "a", "EXPIRED")]


def test_a_group_debit_beyond_its_unexpired_lots_is_refused():
    result = run_group(
        group_holder("MILES", lot("a", 5, expires=T0 - DAY), lot("b", 3)),
        {"type": "DEBIT", "asset_id": "MILES", "amount": 6, "target": GROUP},
    )
    assert (result.status, result.error_code) == ("FAILED", "insufficient_funds")


def test_a_void_hold_of_the_named_group_cancels_its_provisional_lots():
    provisional = lot("p", 7, "HELD", reference_id="auth-1", provisional=True)
    result = run_group(
        group_holder("MILES", lot("a", 3), provisional),
        {"type": "VOID_HOLD", "asset_id": "MILES", "reference_id": "'auth-1'", "target": GROUP},
    )
    assert result.status == "COMPLETED" and result.actions[0].amount == Decimal(7)
    assert result.group.balances["MILES"] == Balance(available=Decimal(3))
