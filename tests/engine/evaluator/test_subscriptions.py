"""engine.evaluator.subscriptions: when a participant's subscription fires next."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from engine.evaluator.subscriptions import next_trigger, threshold_fires
from engine.model.automation import AutomationSpec
from engine.model.state import CounterState, EntityState
from engine.rules.automations import require_automation


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def automation(schedule_type: str, zone: str = "UTC", **config):
    spec = {
        "name": "a",
        "event_name": "a",
        "scope": "participants",
        "trigger": {"type": "participant_state", "schedule_type": schedule_type, "schedule_config": config},
    }
    return require_automation(msgspec.convert(spec, AutomationSpec), zone)


MEMBER = EntityState(id="p", attributes={"birthday": "1990-06-15"})


def test_a_birthday_comes_each_year_after_the_last_one():
    birthday = automation("ATTRIBUTE_DATE", "Europe/London", attribute="birthday", time="09:00")
    assert next_trigger(birthday, MEMBER, anchor=at(2026, 1, 1), last_triggered_at=None) == at(2026, 6, 15, 8)
    assert next_trigger(birthday, MEMBER, anchor=at(2026, 1, 1), last_triggered_at=at(2026, 6, 15, 8)) == at(
        2027, 6, 15, 8
    )
    assert next_trigger(birthday, EntityState(id="q"), anchor=at(2026, 1, 1), last_triggered_at=None) is None
    once = automation("ATTRIBUTE_DATE", attribute="birthday", recurrence="once")
    assert next_trigger(once, MEMBER, anchor=at(1980, 1, 1), last_triggered_at=at(1990, 6, 15)) is None


def test_intervals_fire_once_per_stretch_unless_they_repeat():
    nudge = automation("INTERVAL", interval="720h", since="last_event")
    assert next_trigger(nudge, MEMBER, anchor=at(2026, 1, 1), last_triggered_at=None) == at(2026, 1, 31)
    assert next_trigger(nudge, MEMBER, anchor=at(2026, 1, 1), last_triggered_at=at(2026, 1, 31)) is None
    # a new event moved the anchor past the last firing: a new stretch
    assert next_trigger(nudge, MEMBER, anchor=at(2026, 2, 10), last_triggered_at=at(2026, 1, 31)) == at(2026, 3, 12)
    repeating = automation("INTERVAL", interval="24h", repeat=True)
    assert next_trigger(repeating, MEMBER, anchor=at(2026, 1, 1), last_triggered_at=at(2026, 1, 5)) == at(2026, 1, 6)


def test_a_participant_cron_and_a_threshold_that_re_arms():
    weekly = automation("CRON", cron_expression="0 0 * * MON")
    assert next_trigger(weekly, MEMBER, anchor=at(2026, 1, 1), last_triggered_at=at(2026, 1, 5)) == at(2026, 1, 12)
    streak = automation("THRESHOLD", counter="visits", threshold=10, repeat=True)
    assert next_trigger(streak, MEMBER, anchor=at(2026, 1, 1), last_triggered_at=None) is None
    ten = EntityState(counters={"visits": CounterState(value=Decimal(10))})
    assert threshold_fires(streak, ten, armed=True) == (True, False)
    assert threshold_fires(streak, ten, armed=False) == (False, False)  # still over: not again
    assert threshold_fires(streak, MEMBER, armed=False) == (False, True)  # dropped below: armed again
    once = automation("THRESHOLD", counter="visits", threshold=10)
    assert threshold_fires(once, MEMBER, armed=False) == (False, False)
