"""Each participant as it was just ahead of a window: today's state with what was written since
taken back out."""

from __future__ import annotations

from decimal import Decimal

from engine.store.history.events import resolve_window
from engine.store.history.starts import Starts


def _starts(recorded, window):
    world = recorded.world
    return Starts(window, world.org.id, {world.pts.id: "PTS", world.gem.id: "GEM"}, set())


def test_a_participant_starts_from_what_was_written_ahead_of_the_window(recorded):
    world = recorded.world
    starts = _starts(recorded, resolve_window(world.program.id, start=recorded.split))
    alice = starts.participant(world.alice.id)
    assert alice.balances["PTS"].available == Decimal("10.00") and alice.tags == []
    assert alice.counters["visits"].value == 1 and alice.external_id == "alice"
    bob = starts.participant(world.bob.id)
    assert bob.balances.get("PTS") is None or bob.balances["PTS"].available == 0
    assert "visits" not in bob.counters


def test_the_api_s_changes_ahead_of_a_later_window_are_kept(recorded):
    world = recorded.world
    starts = _starts(recorded, resolve_window(world.program.id, last=1))  # alice's third event
    alice = starts.participant(world.alice.id)
    assert alice.balances["PTS"].available == Decimal("22.00")  # 10 + 7 + 5
    assert alice.tags == ["vip"] and alice.counters["visits"].value == 2
    assert starts.program().tags == []


def test_the_undo_is_read_page_by_page_and_only_for_the_tracked_participants(recorded, monkeypatch):
    from engine.store.history import starts as module

    monkeypatch.setattr(module, "PAGE", 1)
    world = recorded.world
    window = resolve_window(world.program.id, start=recorded.split)
    symbols = {world.pts.id: "PTS", world.gem.id: "GEM"}
    paged = Starts(window, world.org.id, symbols, set(), {world.alice.id}).participant(world.alice.id)
    assert paged.balances["PTS"].available == Decimal("10.00") and paged.counters["visits"].value == 1
    assert paged.tags == []
    untracked = Starts(window, world.org.id, symbols, set(), {world.bob.id}).participant(world.alice.id)
    assert untracked.balances["PTS"].available == Decimal("23.00")  # today's (10 + 7 + 5 + 1): nothing taken back
