"""Lots: spending order, expiry and maturity, holds that split, overdrafts, LIFO restores."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from engine.model.lots import Lot, LotFilter, LotPile, LotShortfall, LotStatus, SpendingOrder, Take

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def lot(name: str, amount: int, earned_days: int = 0, *, expires_days: int | None = None, **extra) -> Lot:
    return Lot(
        id=name,
        amount=Decimal(amount),
        remaining=Decimal(amount),
        status=extra.pop("status", LotStatus.AVAILABLE),
        created_at=T0 + earned_days * DAY,
        expires_at=None if expires_days is None else T0 + expires_days * DAY,
        **extra,
    )


def pile(*lots: Lot, order: str = "FIFO") -> LotPile:
    counter = itertools.count(1)
    return LotPile(lots, order, new_id=lambda: f"new-{next(counter)}")


def remaining(p: LotPile) -> dict[str, tuple[str, Decimal]]:
    return {item.id: (str(item.status), item.remaining) for item in p.lots}


def test_fifo_spends_the_oldest_earned_first_and_skips_expired_lots():
    p = pile(lot("b", 10, 2), lot("a", 10, 1), lot("old", 10, 0, expires_days=5))
    taken = p.take(Decimal(15), as_of=T0 + 6 * DAY)
    assert taken == [Take(lot_id="a", amount=Decimal(10)), Take(lot_id="b", amount=Decimal(5))]
    assert remaining(p) == {"b": ("AVAILABLE", 5), "a": ("CONSUMED", 0), "old": ("AVAILABLE", 10)}


def test_expiring_first_spends_the_soonest_expiry_first_and_never_expiring_lots_last():
    p = pile(
        lot("forever", 10, 0),
        lot("late", 10, 1, expires_days=90),
        lot("soon", 10, 2, expires_days=30),
        order=SpendingOrder.EXPIRING_FIRST,
    )
    assert [take.lot_id for take in p.take(Decimal(25), as_of=T0)] == ["soon", "late", "forever"]


def test_a_shortfall_raises_unless_allowed():
    p = pile(lot("a", 10))
    with pytest.raises(LotShortfall) as info:
        p.take(Decimal(11), as_of=T0)
    assert (info.value.needed, info.value.available) == (Decimal(11), Decimal(10))
    assert remaining(p) == {"a": ("AVAILABLE", 10)}  # nothing taken
    assert p.take(Decimal(11), as_of=T0, allow_short=True) == [Take(lot_id="a", amount=Decimal(10))]


def test_a_credit_repays_an_overdraft_first_and_a_deferred_credit_does_not():
    p = pile()
    repaying = p.credit(Decimal(10), as_of=T0, overdraft=Decimal(4))
    assert (repaying.amount, repaying.remaining, repaying.status) == (Decimal(10), Decimal(6), "AVAILABLE")
    swallowed = p.credit(Decimal(3), as_of=T0, overdraft=Decimal(4))
    assert (swallowed.remaining, swallowed.status) == (Decimal(0), "CONSUMED")
    deferred = p.credit(Decimal(5), as_of=T0, matures_at=T0 + DAY, overdraft=Decimal(4))
    assert (deferred.remaining, deferred.status) == (Decimal(5), "DEFERRED")


def test_a_past_maturity_credits_available_at_once():
    credited = pile().credit(Decimal(5), as_of=T0, matures_at=T0 - DAY)
    assert credited.status == "AVAILABLE"


def test_holding_part_of_a_lot_splits_it_and_keeps_its_dates():
    p = pile(lot("a", 10, 0, expires_days=30))
    (moved,) = p.move(Decimal(4), as_of=T0, source=LotStatus.AVAILABLE, target=LotStatus.HELD, reference_id="o-1")
    split = next(item for item in p.lots if item.id == moved.lot_id)
    assert (split.status, split.remaining, split.reference_id, split.source_lot_id) == ("HELD", 4, "o-1", "a")
    assert (split.created_at, split.expires_at) == (T0, T0 + 30 * DAY)
    assert remaining(p)["a"] == ("AVAILABLE", 6)


def test_release_by_reference_takes_only_that_references_lots():
    p = pile(
        lot("x", 5, status=LotStatus.HELD, reference_id="o-1"),
        lot("y", 7, 1, status=LotStatus.HELD, reference_id="o-2"),
    )
    released = p.move(
        None, as_of=T0, source=LotStatus.HELD, target=LotStatus.AVAILABLE, only=LotFilter(reference_id="o-2")
    )
    assert released == [Take(lot_id="y", amount=Decimal(7))]
    assert remaining(p) == {"x": ("HELD", 5), "y": ("AVAILABLE", 7)}
    assert p.lots[1].reference_id is None


def test_void_takes_only_provisional_lots():
    p = pile()
    p.credit(Decimal(8), as_of=T0, status=LotStatus.HELD, reference_id="auth-1")
    p.lots.append(lot("held-by-hold", 5, status=LotStatus.HELD, reference_id="auth-1"))
    voided = p.take(
        Decimal(8), as_of=T0, status=LotStatus.HELD, only=LotFilter(reference_id="auth-1", provisional_only=True)
    )
    assert [take.amount for take in voided] == [Decimal(8)]
    assert remaining(p)["held-by-hold"] == ("HELD", 5)


def test_settle_expires_then_matures_and_maturity_repays_an_overdraft():
    p = pile(
        lot("gone", 10, 0, expires_days=10),
        lot("ripe", 6, 0, status=LotStatus.DEFERRED, matures_at=T0 + 5 * DAY),
        lot("both", 3, 0, status=LotStatus.DEFERRED, matures_at=T0 + DAY, expires_days=2),
    )
    assert not p.due_at(T0) and p.due_at(T0 + 11 * DAY)
    settled = p.settle(T0 + 11 * DAY, overdraft=Decimal(2))
    assert [(s.lot_id, s.kind, s.amount, s.from_status) for s in settled] == [
        ("both", "EXPIRED", Decimal(3), "DEFERRED"),
        ("gone", "EXPIRED", Decimal(10), "AVAILABLE"),
        ("ripe", "MATURED", Decimal(6), "DEFERRED"),
    ]
    assert remaining(p) == {"gone": ("EXPIRED", 0), "ripe": ("AVAILABLE", 4), "both": ("EXPIRED", 0)}
    assert p.settle(T0 + 11 * DAY) == []  # once


def test_restore_gives_back_the_latest_takes_first():
    p = pile(lot("a", 5, 0), lot("b", 5, 1), lot("c", 5, 2))
    taken = p.take(Decimal(12), as_of=T0)
    back = p.restore(taken, Decimal(4))
    assert back == [Take(lot_id="c", amount=Decimal(2)), Take(lot_id="b", amount=Decimal(2))]
    assert remaining(p) == {"a": ("CONSUMED", 0), "b": ("AVAILABLE", 2), "c": ("AVAILABLE", 5)}


def test_filters_by_earned_time_and_lot_ids():
    p = pile(lot("a", 5, 0), lot("b", 5, 3), lot("c", 5, 6))
    window = LotFilter(earned_from=T0 + DAY, earned_to=T0 + 6 * DAY)
    assert [item.id for item in p.spendable(LotStatus.AVAILABLE, T0, window)] == ["b", "c"]
    assert p.total(LotStatus.AVAILABLE, T0, LotFilter(lot_ids=frozenset({"a", "c"}))) == Decimal(10)


def test_value_moved_into_an_overdrawn_bucket_repays_the_overdraft_first():
    p = pile(lot("a", 4, 0, status=LotStatus.HELD), lot("b", 6, 1, status=LotStatus.HELD))
    moved = p.move(Decimal(8), as_of=T0, source=LotStatus.HELD, target=LotStatus.AVAILABLE, overdraft=Decimal(5))
    assert moved == [Take(lot_id="a", amount=Decimal(4)), Take(lot_id="new-1", amount=Decimal(4))]
    # 8 arrived in a bucket 5 below zero: 3 remain, in the part that arrived last
    assert remaining(p) == {"a": ("CONSUMED", 0), "b": ("HELD", 2), "new-1": ("AVAILABLE", 3)}
