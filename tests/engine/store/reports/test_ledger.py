"""Members' flows over periods: a history of known totals, the rollup folded at any point, and
the roll-forward identity over random histories."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.store.ledger.verify import verify
from engine.store.models import Account, Asset, Organisation, Participant, Program, ProgramAsset
from engine.store.reports import rollup
from engine.store.reports.flows import Flows
from engine.store.reports.ledger import Scope, day_boundaries, flows_in
from engine.store.reports.summary import ledger_summary, liability_days
from tests.engine.store.reports.ledger_history import MOVES, History
from tests.engine.world import World

DAY1 = datetime(2026, 3, 1, tzinfo=UTC)


def known_history(world) -> History:
    history = History(world)
    history.post("CREDIT", "PTS", "100.00", at=DAY1 + timedelta(hours=9))
    history.post("CREDIT", "PTS", "50.50", at=DAY1 + timedelta(hours=23, minutes=59, seconds=59))
    history.post("REDEMPTION", "PTS", "30.00", at=DAY1 + timedelta(days=1, hours=10, minutes=30))
    history.post("REVERSAL", "PTS", "5.00", at=DAY1 + timedelta(days=1, hours=11))
    history.post("EXPIRY", "PTS", "7.25", at=DAY1 + timedelta(days=1, hours=23))
    history.post("TRANSFER", "PTS", "20.00", at=DAY1 + timedelta(days=2, hours=1))
    history.post("FORFEIT", "PTS", "2.00", at=DAY1 + timedelta(days=2, hours=2))
    history.post("DEBIT", "PTS", "1.25", at=DAY1 + timedelta(days=2, hours=3))
    history.post("HOLD", "PTS", "10.00", at=DAY1 + timedelta(days=2, hours=4))
    history.post("CREDIT", "GEM", "3", at=DAY1 + timedelta(days=2, hours=5))
    return history


def members_hold(world, asset) -> Decimal:
    rows = Account.select().where((Account.asset == asset.id) & (Account.entity_type == "PARTICIPANT"))
    return sum((row.balance for row in rows), Decimal(0))


@pytest.mark.parametrize("folded", [0, 3, 7, 100])
def test_the_summary_of_a_known_history_whatever_the_rollup_holds(db, folded):
    world = World()
    known_history(world)
    rollup.fold_organisation(world.org.id, folded, datetime.now(UTC))
    period = (DAY1 + timedelta(days=1), DAY1 + timedelta(days=2))
    pts, gem = ledger_summary(Scope(world.org.id), [world.pts, world.gem], period)
    assert (pts.total.issued, pts.total.redeemed, pts.total.expired) == (
        Decimal("150.50"),
        Decimal(25),
        Decimal("7.25"),
    )
    assert (pts.total.forfeited, pts.total.adjusted) == (Decimal(2), Decimal("-1.25"))
    assert pts.current_balance == Decimal("115.00") == members_hold(world, world.pts)
    assert pts.participant_count == 2
    assert pts.period is not None
    assert (pts.period.opening_balance, pts.period.closing_balance) == (Decimal("150.50"), Decimal("118.25"))
    assert (pts.period.redeemed, pts.period.expired, pts.period.issued) == (Decimal(25), Decimal("7.25"), Decimal(0))
    assert str(pts.period.closing_balance) == "118.25"  # at the asset's scale
    assert gem.current_balance == Decimal(3) and gem.period is not None and gem.period.closing_balance == 0


def test_a_program_scope_counts_only_its_entries(db):
    world = World()
    known_history(world)
    other = Program.create(organisation=world.org, key="other", name="Other")
    (pts,) = ledger_summary(Scope(world.org.id, other.id), [world.pts])
    assert pts.current_balance == 0 and pts.total.issued == 0 and pts.participant_count == 0


def test_daily_roll_forward_chains_each_closing_to_the_next_opening(db):
    world = World()
    known_history(world)
    rollup.fold(limit=4)
    days = liability_days(Scope(world.org.id), [world.pts], DAY1, 4)
    assert [d.day for d in days] == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
    for today, tomorrow in itertools.pairwise(days):
        assert today.figures.closing_balance == tomorrow.figures.opening_balance
    closings = [d.figures.closing_balance for d in days]
    assert closings == [Decimal("150.50"), Decimal("118.25"), Decimal("115.00"), Decimal("115.00")]
    assert days[1].figures.redeemed == Decimal(25) and days[2].figures.forfeited == Decimal(2)


def test_days_in_a_zone_with_half_hours_cut_the_rollup_hours_at_their_midnight(db):
    world = World()
    history = History(world)
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30: midnight is 18:30 UTC
    history.post("CREDIT", "PTS", "1", at=datetime(2026, 3, 1, 18, 10, tzinfo=UTC))  # 23:40 on the 1st
    history.post("CREDIT", "PTS", "2", at=datetime(2026, 3, 1, 18, 40, tzinfo=UTC))  # 00:10 on the 2nd
    rollup.fold()
    days = liability_days(Scope(world.org.id), [world.pts], datetime(2026, 3, 1, tzinfo=kolkata), 2)
    assert [(d.day, d.figures.issued) for d in days] == [("2026-03-01", Decimal(1)), ("2026-03-02", Decimal(2))]


def test_day_boundaries_follow_the_clocks(db):
    new_york = ZoneInfo("America/New_York")
    days = day_boundaries(datetime(2026, 3, 7, tzinfo=new_york), 3)
    assert [(b - a).total_seconds() / 3600 for a, b in itertools.pairwise(days)] == [24, 23, 24]


def test_verify_finds_a_tampered_rollup(db):
    world = World()
    known_history(world)
    rollup.fold()
    assert rollup.verify_rollup(world.org.id) == []
    row = rollup.LedgerRollup.select().where(rollup.LedgerRollup.category == "expired").get()
    rollup.LedgerRollup.update(amount=row.amount + 1).where(rollup.LedgerRollup.id == row.id).execute()
    (problem,) = rollup.verify_rollup(world.org.id)
    assert "expired" in problem and "-6.25" in problem
    (mismatch,) = verify().mismatches
    assert mismatch.code == "rollup_mismatch" and mismatch.message == problem
    assert rollup.count_behind() == 0


def test_fold_catches_up_organisation_by_organisation(db):
    first, second = World(), _second_world()
    known_history(first)
    History(second).post("CREDIT", "PTS", "4", at=DAY1)
    assert rollup.count_behind() == 11
    assert rollup.fold(limit=6) == 6
    assert rollup.fold(limit=100) == 5
    assert rollup.fold() == 0 and rollup.count_behind() == 0


def _second_world():
    """Another organisation with the same shape as `World` (names are unique per organisation)."""
    world = World.__new__(World)
    world.org = Organisation.create(name="globex")
    world.program = Program.create(organisation=world.org, key="loyalty", name="Loyalty")
    world.pts = Asset.create(organisation=world.org, symbol="PTS", name="Points", scale=2)
    world.gem = Asset.create(organisation=world.org, symbol="GEM", name="Gems", scale=0)
    for asset in (world.pts, world.gem):
        ProgramAsset.create(program=world.program, asset=asset)
    world.alice = Participant.create(organisation=world.org, external_id="alice")
    world.bob = Participant.create(organisation=world.org, external_id="bob")
    return world


START = datetime(2026, 5, 1, tzinfo=UTC)
steps = st.lists(
    st.tuples(
        st.sampled_from(sorted(MOVES)),
        st.integers(min_value=1, max_value=99_999).map(lambda cents: f"{Decimal(cents).scaleb(-2)}"),
        st.integers(min_value=0, max_value=4 * 24 * 60 - 1),  # minutes into the four days
    ),
    max_size=25,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=steps,
    fold_at=st.integers(min_value=0, max_value=30),
    zone=st.sampled_from(["UTC", "Asia/Kolkata", "America/New_York"]),
)
def test_roll_forward_identity_over_random_histories(db, steps, fold_at, zone):
    world = _fresh_world()
    history = History(world)
    for action, amount, minute in sorted(steps, key=lambda step: step[2]):
        history.post(action, "PTS", amount, at=START + timedelta(minutes=minute))
    rollup.fold_organisation(world.org.id, fold_at, datetime.now(UTC))
    first_midnight = datetime(2026, 4, 30, tzinfo=ZoneInfo(zone))
    days = liability_days(Scope(world.org.id), [world.pts], first_midnight, 6)
    midnights = day_boundaries(first_midnight, 6)
    for index, day in enumerate(days):
        start, end = midnights[index], midnights[index + 1]
        assert day.figures.opening_balance == history.net(world.pts.id, None, start)
        assert day.figures.closing_balance == history.net(world.pts.id, None, end)
        for category in ("issued", "redeemed", "expired", "forfeited", "adjusted"):
            assert getattr(day.figures, category) == history.outflow(world.pts.id, category, start, end)
        if index:
            assert day.figures.opening_balance == days[index - 1].figures.closing_balance
    (whole,) = flows_in(Scope(world.org.id), [None, None])
    assert whole.get(world.pts.id, _empty()).net == members_hold(world, world.pts)
    rollup.fold()
    assert rollup.verify_rollup(world.org.id) == []


_worlds = iter(range(1_000_000))


def _fresh_world():
    """A new organisation per example: the ledger is per organisation, so examples share a database."""
    index = next(_worlds)
    world = World.__new__(World)
    world.org = Organisation.create(name=f"org-{index}")
    world.program = Program.create(organisation=world.org, key="loyalty", name="Loyalty")
    world.pts = Asset.create(organisation=world.org, symbol="PTS", name="Points", scale=2)
    world.gem = Asset.create(organisation=world.org, symbol="GEM", name="Gems", scale=0)
    ProgramAsset.create(program=world.program, asset=world.pts)
    world.alice = Participant.create(organisation=world.org, external_id="alice")
    world.bob = Participant.create(organisation=world.org, external_id="bob")
    return world


def _empty():
    return Flows()
