"""The processing-alone figure: its rate beside the trivial one, its steps and its rows."""

from __future__ import annotations

from engine.cli.bench.processing import Processing, render_processing


def test_render_compares_the_processing_alone_with_the_best_trivial_rate():
    (line,) = render_processing(Processing(180.0), 400.0)
    assert line.startswith("processing alone") and line.endswith(": 180 events/s, 45% of the best trivial rate")


def test_render_says_where_an_event_s_time_went_and_what_it_wrote():
    alone = Processing(500.0, {"context": 180.0, "evaluate": 100.0, "write": 1200.0}, {"posting": 11.04})
    lines = render_processing(alone)
    assert lines[0].endswith(": 500 events/s")
    assert lines[-2] == "  µs per event: context 180, evaluate 100, write 1200"
    assert lines[-1] == "  rows written per event: posting 11.0"
