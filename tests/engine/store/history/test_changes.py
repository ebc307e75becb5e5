"""The changes made around a window's events by anything else: a goodwill credit and a tag of
the API appear, the window's own events' rows do not."""

from __future__ import annotations

from decimal import Decimal

from engine.store.history.changes import ledger_changes, state_records
from engine.store.history.events import resolve_window


def test_the_api_s_changes_in_the_window_are_read_and_the_events_own_rows_are_not(recorded):
    world = recorded.world
    window = resolve_window(world.program.id, start=recorded.split)
    (credit,) = list(ledger_changes(window, world.org.id, {world.pts.id, world.gem.id}))
    assert credit.action_type == "CREDIT" and credit.owner_id == world.alice.id and credit.asset == "PTS"
    assert credit.deltas == {"AVAILABLE": Decimal("7.00")} and window.first_at <= credit.at
    (tag,) = list(state_records(window, world.org.id))
    assert (tag.state_type, tag.key, tag.operation, tag.from_event) == ("tag", "vip", "add", False)


def test_a_window_of_events_only_reads_no_change(recorded):
    world = recorded.world
    window = resolve_window(world.program.id, last=2)  # after the API's changes
    assert list(ledger_changes(window, world.org.id, {world.pts.id})) == []
    assert list(state_records(window, world.org.id)) == []


def test_the_events_own_rows_are_left_out_by_the_statement_not_read_back(recorded, monkeypatch):
    from engine.store import statements

    read: list[int] = []
    original = statements.rows

    def counted(sql, params, types):
        found = original(sql, params, types)
        read.append(len(found))
        return found

    world = recorded.world
    window = resolve_window(world.program.id, last=2)  # its events wrote postings and state rows
    monkeypatch.setattr(statements, "rows", counted)
    assert list(ledger_changes(window, world.org.id, {world.pts.id})) == []
    assert list(state_records(window, world.org.id)) == []
    assert read == [0, 0]
