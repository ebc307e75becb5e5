"""The SVG layout of the reports page's charts: points and bars inside the plot, zero on the
baseline, negative values below it, and at most about eight labels under the axis."""

from __future__ import annotations

from decimal import Decimal

from playground.charts import BOTTOM, HEIGHT, LEFT, TOP, WIDTH, bar_chart, line_chart


def test_a_line_runs_from_the_left_edge_to_the_right_within_the_plot():
    chart = line_chart("Liability", ["a", "b", "c"], {"PTS": [Decimal(0), Decimal("5.5"), Decimal(11)]})
    points = [tuple(map(float, p.split(","))) for p in chart.series[0].points.split()]
    assert points[0] == (LEFT, HEIGHT - BOTTOM) and points[-1] == (WIDTH - 8, TOP)
    assert chart.baseline == HEIGHT - BOTTOM and [label for _, label in chart.labels] == ["a", "b", "c"]


def test_bars_stand_on_the_baseline_and_negative_ones_hang_below_it():
    chart = bar_chart("Net", [f"d{i}" for i in range(20)], {"in": [2] * 20, "out": [-1] * 20})
    ups = [bar for bar in chart.bars if bar.title.startswith("in")]
    downs = [bar for bar in chart.bars if bar.title.startswith("out")]
    assert all(round(bar.y + bar.height, 2) == chart.baseline for bar in ups)
    assert all(bar.y == chart.baseline and bar.height > 0 for bar in downs)
    assert len(chart.labels) <= 10 and [s.name for s in chart.series] == ["in", "out"]


def test_an_empty_or_flat_series_still_draws():
    assert bar_chart("Rules", [], {"rate": []}).bars == []
    flat = line_chart("Zero", ["a"], {"PTS": [0]})
    assert flat.series[0].points == f"{float(LEFT)},{float(HEIGHT - BOTTOM)}"
