"""The reports page's figures: events per UTC day by id range, and each rule's matches over its
program's processed events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.store.db import utcnow
from engine.store.models import EventRecord, RuleEvaluation
from engine.store.reports.charts import events_per_day, rule_match_rates
from tests.engine.world import World


def test_events_per_day_and_rule_match_rates(db):
    world = World()
    earn, bonus = world.rule("earn"), world.rule("bonus")
    events = [world.event(key=f"e{n}", enqueue=False) for n in range(4)]
    for row in events[:3]:
        EventRecord.update(status="COMPLETED").where(EventRecord.id == row.id).execute()
    for row in events[:2]:
        RuleEvaluation.create(event=row, rule_id=earn.id, rule_name="earn", status="SUCCESS", engine_status="MATCHED")
    now = utcnow()
    today = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)
    midnights = [today - timedelta(days=1), today, today + timedelta(days=1)]
    assert events_per_day(world.org.id, midnights) == [0, 4]
    rates = rule_match_rates(world.org.id, midnights[0], midnights[-1])
    assert [(r.rule_name, r.matched, r.events) for r in rates] == [("earn", 2, 3), ("bonus", 0, 3)]
    assert round(rates[0].rate, 3) == 0.667 and bonus.id == rates[1].rule_id
    assert rule_match_rates(world.org.id, midnights[0], today)[0].events == 0
