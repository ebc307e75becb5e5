"""The clock's due work in storage: lots settled once per holder, batched by organisation; SIMPLE
deferred credits matured; budgets rolled over."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from engine.model.bundle import Budget
from engine.store import sweeps
from engine.store.db import utcnow, write_transaction
from engine.store.ledger import movements
from engine.store.ledger.journal import Ledger
from engine.store.ledger.movements import Entity
from engine.store.ledger.verify import verify
from engine.store.models import Asset, LotRecord, Participant, ProgramAsset, RuleBudget
from tests.engine.world import make_rule

NOW = utcnow()
DAY = timedelta(days=1)


@pytest.fixture
def miles(world):
    asset = Asset.create(organisation=world.org, symbol="MILES", name="Miles", scale=0, inventory_mode="LOT")
    ProgramAsset.create(program=world.program, asset=asset)
    return asset


def earn(world, asset, holder, amount, **dates):
    with write_transaction():
        ledger = Ledger(world.org.id)
        movements.credit(
            ledger,
            asset,
            world.program.id,
            Entity("PARTICIPANT", holder.id),
            Decimal(amount),
            as_of=NOW - 9 * DAY,
            **dates,
        )
        ledger.finish()


def test_due_holders_come_earliest_first_and_each_is_settled_once(world, miles):
    earn(world, miles, world.alice, 5, expires_at=NOW - DAY)
    earn(world, miles, world.alice, 3, matures_at=NOW - 2 * DAY)
    earn(world, miles, world.bob, 4, expires_at=NOW - 3 * DAY)
    earn(world, miles, world.bob, 9, expires_at=NOW + DAY)  # not due
    holders = sweeps.due_lot_holders(NOW, 10)
    assert [holder.entity_id for holder in holders] == [world.bob.id, world.alice.id]
    assert sweeps.count_due_holders(NOW) == 2
    seen = []
    first = sweeps.settle_due_lots(NOW, on_settled=seen.append)
    assert first.holders == 2 and len(seen) == 1  # one organisation: one transaction
    assert sorted((s.kind, s.amount) for s in first.settled) == [
        ("EXPIRED", Decimal(4)),
        ("EXPIRED", Decimal(5)),
        ("MATURED", Decimal(3)),
    ]
    assert sweeps.settle_due_lots(NOW) == sweeps.LotSweep(0, [])
    assert sweeps.count_due_holders(NOW + 2 * DAY) == 1
    assert verify().ok


def test_a_limit_takes_that_many_holders_and_the_rest_stay_due(world, miles):
    people = [Participant.create(organisation=world.org, external_id=f"p{n}") for n in range(5)]
    for person in people:
        earn(world, miles, person, 2, expires_at=NOW - DAY)
    assert sweeps.settle_due_lots(NOW, limit=3).holders == 3
    assert sweeps.count_due_holders(NOW) == 2
    assert sweeps.settle_due_lots(NOW, limit=3).holders == 2
    assert LotRecord.select().where(LotRecord.status == "EXPIRED").count() == 5


def test_a_holder_that_cannot_settle_is_not_counted_and_stays_due(world, miles):
    earn(world, miles, world.alice, 5, expires_at=NOW - DAY)
    Asset.update(status="ARCHIVED").where(Asset.id == miles.id).execute()
    assert sweeps.settle_due_lots(NOW) == sweeps.LotSweep(0, [])
    assert sweeps.count_due_holders(NOW) == 1
    Asset.update(status="ACTIVE").where(Asset.id == miles.id).execute()
    assert sweeps.settle_due_lots(NOW).holders == 1


def test_batches_never_mix_organisations():
    holders = [sweeps.Holder(org, "PARTICIPANT", str(n), "", "a") for n, org in enumerate("aabab")]
    groups = sweeps._batches(holders)
    assert [{holder.organisation_id for holder in group} for group in groups] == [{"a"}, {"b"}]


def test_budgets_past_their_period_roll_over_once(world):
    rule = make_rule(world, budgets=[Budget(asset_id="PTS", limit="100", schedule_type="INTERVAL", interval="24h")])
    budget = RuleBudget.get(RuleBudget.rule == rule.id)
    RuleBudget.update(consumed=Decimal(40), next_reset_at=NOW - DAY).where(RuleBudget.id == budget.id).execute()
    assert sweeps.roll_due_budgets(NOW) == 1
    rolled = RuleBudget.get_by_id(budget.id)
    assert rolled.consumed == 0 and rolled.next_reset_at > NOW
    assert sweeps.roll_due_budgets(NOW) == 0


def test_a_batch_loads_its_holders_together_whatever_their_kind_asset_or_bucket(world, miles):
    stars = Asset.create(
        organisation=world.org,
        symbol="STARS",
        name="Stars",
        scale=0,
        inventory_mode="LOT",
        spending_order="EXPIRING_FIRST",
    )
    ProgramAsset.create(program=world.program, asset=stars)
    team = Entity("GROUP", "team-1", world.program.id)  # a group's accounts are scoped to the program
    due = {"expires_at": NOW - DAY}
    for asset, entity, amount, bucket, dates in [
        (miles, Entity("PARTICIPANT", world.alice.id), 5, "AVAILABLE", due),
        (miles, Entity("PARTICIPANT", world.alice.id), 2, "HELD", due),
        (stars, Entity("PARTICIPANT", world.alice.id), 7, "AVAILABLE", {"matures_at": NOW - DAY}),
        (miles, Entity("PARTICIPANT", world.bob.id), 4, "AVAILABLE", {"expires_at": NOW + DAY}),  # not due
        (miles, team, 6, "AVAILABLE", due),
        (stars, team, 1, "AVAILABLE", due),
    ]:
        with write_transaction():
            ledger = Ledger(world.org.id)
            extra = {"reference_id": "r"} if bucket == "HELD" else {}
            movements.credit(
                ledger, asset, world.program.id, entity, Decimal(amount), bucket, as_of=NOW - 9 * DAY, **dates, **extra
            )
            ledger.finish()
    swept = sweeps.settle_due_lots(NOW)
    assert swept.holders == 4  # alice and the team, of each asset
    assert sorted((s.asset.symbol, s.entity.type, s.kind, s.amount) for s in swept.settled) == [
        ("MILES", "GROUP", "EXPIRED", Decimal(6)),
        ("MILES", "PARTICIPANT", "EXPIRED", Decimal(2)),
        ("MILES", "PARTICIPANT", "EXPIRED", Decimal(5)),
        ("STARS", "GROUP", "EXPIRED", Decimal(1)),
        ("STARS", "PARTICIPANT", "MATURED", Decimal(7)),
    ]
    assert sweeps.count_due_holders(NOW) == 0
    assert verify().ok


def test_a_batch_costs_the_same_statements_however_many_holders_it_settles(world, miles, db):
    def statements_to_sweep(people: int) -> int:
        for n in range(people):
            earn(world, miles, Participant.create(organisation=world.org, external_id=f"p{people}-{n}"), 2, **due)
        sent = []
        original = db.execute_sql
        db.execute_sql = lambda sql, params=None, *a, **k: sent.append(sql) or original(sql, params, *a, **k)
        try:
            assert sweeps.settle_due_lots(NOW).holders == people
        finally:
            del db.execute_sql
        return len(sent)

    due = {"expires_at": NOW - DAY}
    statements_to_sweep(1)  # the first expiry also makes the breakage account
    assert statements_to_sweep(2) == statements_to_sweep(12)
    assert verify().ok
