"""The public surface of `engine`: exactly what `__all__` lists, each name the engine's own."""

from __future__ import annotations

import types
from datetime import UTC, datetime

import engine
from tests.conftest import ROOT


def test_all_lists_the_public_names_sorted_and_present():
    assert engine.__all__ == sorted(engine.__all__)
    assert all(hasattr(engine, name) for name in engine.__all__)


def test_every_public_attribute_is_listed():
    public = {
        name
        for name, value in vars(engine).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(engine.__all__)


def test_every_exported_name_is_defined_inside_the_engine():
    for name in engine.__all__:
        assert getattr(engine, name).__module__.startswith("engine."), name


def test_the_documented_entry_point_evaluates_an_example():
    loaded = engine.load_bundle(ROOT / "rules_examples" / "coffee_stamps.yaml")
    assert loaded.ok and loaded.program is not None
    moment = datetime(2026, 1, 1, 12, tzinfo=UTC)
    event = engine.EventInput(event_data={"type": "purchase"}, event_timestamp=moment, received_at=moment)
    result = engine.evaluate_event(
        loaded.program, engine.EvaluationInput(event=event, participant=engine.EntityState())
    )
    assert result.status == "COMPLETED"
