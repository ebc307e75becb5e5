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


def test_on_sqlite_every_statement_of_a_replay_s_reading_walks_an_index_in_its_order(recorded, monkeypatch):
    """A statement that sorts its rows read them all first: on the entity type's index, every
    posting of the kind in the database, for each page."""
    from engine.store import statements
    from engine.store.db import database_proxy, is_postgres

    if is_postgres():
        pytest.skip("the plans checked are SQLite's")
    read: list[tuple[str, list]] = []
    original = statements.raw_rows

    def kept(sql, params):
        read.append((sql, params))
        return original(sql, params)

    monkeypatch.setattr(statements, "raw_rows", kept)
    world = recorded.world
    source = open_history(world.program.id, organisation_id=world.org.id, start=recorded.split)
    list(source.history())
    source.starts.participant(world.alice.id)
    paged = [(sql, params) for sql, params in read if "LIMIT" in sql]
    assert len(paged) >= 5  # the events, the changes and the undo, each read page by page
    for sql, params in paged:
        plan = database_proxy.obj.execute_sql("EXPLAIN QUERY PLAN " + sql.format(p="?"), params).fetchall()
        assert not any("TEMP B-TREE FOR ORDER BY" in row[-1] for row in plan), (sql, plan)
