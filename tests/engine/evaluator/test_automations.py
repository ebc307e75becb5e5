"""engine.evaluator.automations: which firings an automation makes, and for whom."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from engine.evaluator.automations import Anchors, decide, firing_times, firings, window
from engine.model.automation import AutomationSpec
from engine.model.state import CounterState, EntityState, ProgramState
from engine.rules.automations import require_automation


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def automation(zone: str = "UTC", **fields):
    base = {
        "name": "a",
        "event_name": "tick",
        "scope": "participants",
        "trigger": {"type": "cron", "cron_expression": "0 9 * * *"},
    }
    return require_automation(msgspec.convert(base | fields, AutomationSpec), zone)


def state_trigger(schedule_type: str, **config) -> dict:
    return {"type": "participant_state", "schedule_type": schedule_type, "schedule_config": config}


PROGRAM = ProgramState()
MEMBER = EntityState(id="p1", attributes={"birthday": "06-15"}, tags=["vip"])


def test_a_cron_automation_fires_on_its_zone_s_clock_across_a_dst_change():
    daily = automation("Europe/London")
    # London moves to BST on 29 March 2026: 09:00 is 09:00 UTC before and 08:00 UTC after
    assert firing_times(daily, MEMBER, at(2026, 3, 28, 0), at(2026, 3, 30, 0)) == [
        at(2026, 3, 28, 9),
        at(2026, 3, 29, 8),
    ]
    own_zone = automation(
        "Europe/London", trigger={"type": "cron", "cron_expression": "0 9 * * *", "timezone": "Asia/Tokyo"}
    )
    assert firing_times(own_zone, MEMBER, at(2026, 3, 28, 0), at(2026, 3, 29, 0)) == [at(2026, 3, 29, 0)]


def test_a_one_time_automation_fires_once_and_never_when_its_time_is_past():
    once = automation(trigger={"type": "one_time", "trigger_at": "2026-06-01T09:00:00+02:00"})
    assert firing_times(once, MEMBER, at(2026, 6, 1), at(2026, 6, 2)) == [at(2026, 6, 1, 7)]
    assert firing_times(once, MEMBER, at(2026, 6, 2), at(2026, 7, 1)) == []


def test_an_immediate_automation_fires_at_the_end_of_the_window():
    now = automation(trigger={"type": "immediate"})
    assert firing_times(now, MEMBER, at(2026, 1, 1), at(2026, 1, 2)) == [at(2026, 1, 2)]


def test_attribute_dates_come_each_year_and_a_member_without_the_attribute_never_fires():
    birthday = automation("Europe/London", trigger=state_trigger("ATTRIBUTE_DATE", attribute="birthday", time="09:00"))
    assert firing_times(birthday, MEMBER, at(2026, 1, 1), at(2028, 1, 1)) == [at(2026, 6, 15, 8), at(2027, 6, 15, 8)]
    assert firing_times(birthday, EntityState(id="p2"), at(2026, 1, 1), at(2028, 1, 1)) == []


def test_intervals_count_from_the_subscription_or_the_latest_event():
    once = automation(trigger=state_trigger("INTERVAL", interval="24h"))
    anchors = Anchors(subscribed_at=at(2026, 1, 1), last_event_at=at(2026, 1, 3))
    assert firing_times(once, MEMBER, at(2026, 1, 1), at(2026, 1, 10), anchors) == [at(2026, 1, 2)]
    repeating = automation(trigger=state_trigger("INTERVAL", interval="24h", repeat=True))
    assert firing_times(repeating, MEMBER, at(2026, 1, 2), at(2026, 1, 4), anchors) == [at(2026, 1, 3), at(2026, 1, 4)]
    lapsed = automation(trigger=state_trigger("INTERVAL", interval="48h", since="last_event"))
    assert firing_times(lapsed, MEMBER, at(2026, 1, 1), at(2026, 1, 10), anchors) == [at(2026, 1, 5)]


def test_a_participant_cron_and_a_threshold():
    weekly = automation(trigger=state_trigger("CRON", cron_expression="0 0 * * MON"))
    assert firing_times(weekly, MEMBER, at(2026, 1, 1), at(2026, 1, 13)) == [at(2026, 1, 5), at(2026, 1, 12)]
    threshold = automation(trigger=state_trigger("THRESHOLD", counter="visits", threshold=10))
    regular = EntityState(id="p3", counters={"visits": CounterState(value=Decimal(10))})
    assert firing_times(threshold, regular, at(2026, 1, 1), at(2026, 1, 2)) == [at(2026, 1, 2)]
    assert firing_times(threshold, MEMBER, at(2026, 1, 1), at(2026, 1, 2)) == []


def test_the_filter_and_the_guard_decide_and_say_why_not():
    chosen = automation(participant_filter="'vip' in participant.tags", guard_condition="now.getMonth() == 5")
    assert decide(chosen, MEMBER, PROGRAM, at(2026, 6, 15)).fire is True
    assert decide(chosen, MEMBER, PROGRAM, at(2026, 7, 15)).reason == "guard_condition is false"
    outsider = EntityState(id="p4")
    assert decide(chosen, outsider, PROGRAM, at(2026, 6, 15)).reason == "participant_filter is false"
    # a subscription was chosen by the filter already: only the guard runs when it fires
    assert decide(chosen, outsider, PROGRAM, at(2026, 6, 15), with_filter=False).fire is True


def test_a_guard_that_errors_fires_nothing_and_says_which_expression():
    failing = automation(guard_condition="int(participant.attributes.birthday) > 0")
    decision = decide(failing, MEMBER, PROGRAM, at(2026, 6, 15))
    assert decision.fire is False
    assert decision.error is not None and decision.error.startswith("guard_condition: ")


def test_a_program_scope_guard_sees_the_program():
    program_scope = automation(
        scope="program",
        trigger={"type": "cron", "cron_expression": "0 0 1 * *"},
        guard_condition="'launched' in program.tags",
        payload={"multiplier": 2, "type": "ignored"},
    )
    found = firings(program_scope, None, ProgramState(tags=["launched"]), at(2026, 1, 1), at(2026, 3, 1))
    assert [(f.at, f.fired) for f in found] == [(at(2026, 2, 1), True), (at(2026, 3, 1), True)]
    assert found[0].event_data == {"multiplier": 2, "type": "tick"}
    assert [f.fired for f in firings(program_scope, None, PROGRAM, at(2026, 1, 1), at(2026, 2, 1))] == [False]


def test_a_test_window_defaults_to_the_minute_ending_at_its_time():
    assert window(at(2026, 1, 1, 9), None) == (at(2026, 1, 1, 8, 59), at(2026, 1, 1, 9))
    assert window(datetime(2026, 1, 1, 9), at(2026, 1, 1)) == (at(2026, 1, 1), at(2026, 1, 1, 9))
