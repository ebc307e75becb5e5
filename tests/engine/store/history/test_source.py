"""One window's history gathered for a backtest: the baseline as applied, the participants, and
the events and changes woven into one stream by time."""

from __future__ import annotations

import pytest

from engine.model.history import LedgerChange, RecordedEvent, StateRecord
from engine.store.errors import NotFound
from engine.store.history.source import open_history


def test_the_history_is_one_stream_in_time_with_the_changes_before_the_events_after_them(recorded):
    world = recorded.world
    source = open_history(world.program.id, organisation_id=world.org.id, start=recorded.split)
    assert source.total == 3 and source.tracked == {world.alice.id, world.bob.id}
    assert [rule.name for rule in source.baseline.rules] == ["visit", "earn"]
    stream = list(source.history())
    assert [type(item) for item in stream] == [LedgerChange, StateRecord, RecordedEvent, RecordedEvent, RecordedEvent]
    assert [item.at for item in stream] == sorted(item.at for item in stream)
    assert [item.id for item in stream if isinstance(item, RecordedEvent)] == recorded.events[1:]


def test_another_organisation_s_program_is_not_found(recorded):
    with pytest.raises(NotFound) as refused:
        open_history(recorded.world.program.id, organisation_id="0" * 36)
    assert refused.value.code == "program_not_found"
