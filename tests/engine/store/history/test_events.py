"""A program's processed events in their recorded order: windows by time or count, pages, the
stored evaluations of each event, its participants."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.store.history.events import (
    WindowError,
    count_events,
    recorded_events,
    resolve_window,
    window_participants,
)


def test_a_window_by_time_or_by_count_holds_the_events_processed_in_it(recorded):
    program = recorded.world.program.id
    everything = resolve_window(program)
    assert count_events(everything) == 4
    assert [event.id for event in recorded_events(everything, page=2)] == recorded.events  # pages join up
    since = resolve_window(program, start=recorded.split)
    assert [event.id for event in recorded_events(since)] == recorded.events[1:]
    last = resolve_window(program, last=2)
    assert [event.id for event in recorded_events(last)] == recorded.events[2:]
    earlier = resolve_window(program, last=2, end=recorded.split)  # the last 2 processed before `end`
    assert [event.id for event in recorded_events(earlier)] == recorded.events[:1]
    assert window_participants(last) == {recorded.world.alice.id, recorded.world.bob.id}
    assert window_participants(resolve_window(program, last=1)) == {recorded.world.alice.id}


def test_a_recorded_event_carries_what_the_rules_saw_and_what_was_stored(recorded):
    event = next(recorded_events(resolve_window(recorded.world.program.id, last=1)))
    assert event.participant_id == recorded.world.alice.id and event.event_data == {"amount": 1.0}
    assert event.status == "COMPLETED" and event.received_at <= event.processed_at
    assert [(rule.rule, rule.status) for rule in event.rules] == [("visit", "MATCHED"), ("earn", "MATCHED")]
    assert event.rules[1].actions[0]["type"] == "CREDIT" and event.rules[1].actions[0]["amount"] == "1.00"


def test_a_window_without_events_is_refused(recorded):
    program = recorded.world.program.id
    with pytest.raises(WindowError) as refused:
        resolve_window(program, start=recorded.split + timedelta(days=1))
    assert refused.value.code == "empty_window"
    with pytest.raises(WindowError):
        resolve_window(program, end=recorded.split - timedelta(days=1))
    with pytest.raises(WindowError):
        resolve_window("0" * 36, last=10)
