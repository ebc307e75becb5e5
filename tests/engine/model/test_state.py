"""The state a rule sees: when a counter's period has elapsed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.model.state import counter_reset_due

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_counter_resets_at_the_boundary_and_not_before():
    assert not counter_reset_due("24h", T0, T0 + timedelta(hours=24) - timedelta(microseconds=1))
    assert counter_reset_due("24h", T0, T0 + timedelta(hours=24))
    assert not counter_reset_due(None, T0, T0 + timedelta(days=400))
    assert not counter_reset_due("24h", None, T0)
