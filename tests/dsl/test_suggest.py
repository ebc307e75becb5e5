"""The "did you mean" helper."""

from __future__ import annotations

from dsl.suggest import distance, nearest


def test_distance() -> None:
    assert distance("kitten", "sitting") == 3
    assert distance("Event", "evnt") == 1
    assert distance("", "abc") == 3


def test_nearest_within_reach() -> None:
    assert nearest("evnt", ["event", "participant"]) == "event"
    assert nearest("particpant", ["event", "participant"]) == "participant"
    assert nearest("zzzz", ["event", "participant"]) is None
    assert nearest("x", []) is None
