"""Holdings: the lots one event settles and moves, for the participant and the recipient."""

from datetime import timedelta
from decimal import Decimal

import pytest

from engine.evaluator.holdings import bucket_field
from engine.evaluator.working import WorkingState
from engine.model.lots import Lot, LotStatus
from engine.model.state import Balance, ProgramState
from tests.engine.evaluator.support import T0, person

DAY = timedelta(days=1)


def lot(lot_id, remaining, status="AVAILABLE", **dates):
    return Lot(
        id=lot_id,
        amount=Decimal(remaining),
        remaining=Decimal(remaining),
        status=LotStatus(status),
        created_at=T0 - 10 * DAY,
        **dates,
    )


def start(participant, recipient=None, orders=None):
    return WorkingState.start(
        participant, recipient, ProgramState(), {}, T0, as_of=T0, lot_orders=orders or {"MILES": "FIFO"}
    )


@pytest.mark.parametrize(("status", "field"), [("AVAILABLE", "available"), ("HELD", "held"), ("DEFERRED", "deferred")])
def test_each_open_status_is_a_bucket(status, field):
    assert bucket_field(status) == field


def test_settle_expires_and_matures_for_both_roles_and_adjusts_the_balances():
    alice = person(
        "alice",
        balances={"MILES": {"available": 10, "deferred": 5}},
        lots={"MILES": [lot("a", 10, expires_at=T0), lot("b", 5, "DEFERRED", matures_at=T0 - DAY)]},
    )
    bob = person("bob", balances={"MILES": {"held": 3}}, lots={"MILES": [lot("c", 3, "HELD", expires_at=T0 - DAY)]})
    working = start(alice, bob)
    assert [(s.role, s.lot_id, s.kind, s.amount) for s in working.holdings.settled] == [
        ("participant", "a", "EXPIRED", Decimal(10)),
        ("participant", "b", "MATURED", Decimal(5)),
        ("recipient", "c", "EXPIRED", Decimal(3)),
    ]
    assert working.participant.balances["MILES"] == Balance(available=Decimal(5))
    assert working.named("recipient").balances["MILES"] == Balance()


def test_a_lot_expiring_after_the_receive_time_is_left_alone():
    alice = person("alice", balances={"MILES": {"available": 10}}, lots={"MILES": [lot("a", 10, expires_at=T0 + DAY)]})
    working = start(alice)
    assert working.holdings.settled == []
    assert working.participant.balances["MILES"].available == Decimal(10)


def test_lots_of_assets_that_are_not_lot_assets_are_ignored():
    alice = person("alice", balances={"PTS": {"available": 10}}, lots={"PTS": [lot("a", 10, expires_at=T0 - DAY)]})
    assert start(alice).holdings.settled == []


def test_prune_keeps_only_open_lots():
    alice = person("alice", balances={"MILES": {"available": 4}}, lots={"MILES": [lot("a", 4, expires_at=T0)]})
    working = start(alice)
    working.holdings.prune()
    assert working.participant.lots["MILES"] == []
    assert alice.lots["MILES"][0].status == LotStatus.AVAILABLE  # the input state is never changed
