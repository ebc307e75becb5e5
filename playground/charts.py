"""Server-rendered SVG charts of the reports page: series in, shapes out (no chart library, no
script; the page works offline). Pure: the templates draw what these functions lay out.

    line_chart("Liability", labels, {"PTS": [Decimal(...), ...]})   # a Chart of polylines
    bar_chart("Events per day", labels, {"events": [3, 0, 7]})       # a Chart of grouped bars
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 10, 28
COLOURS = ("#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#e65100", "#00838f")
Number = int | float | Decimal


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str  # the tooltip: series, label and value


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    points: str = ""  # the polyline's "x,y x,y ..."


@dataclass(frozen=True)
class Chart:
    title: str
    kind: str  # line or bar
    width: int = WIDTH
    height: int = HEIGHT
    series: list[Series] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # y position, value label
    labels: list[tuple[float, str]] = field(default_factory=list)  # x position, category label
    baseline: float = HEIGHT - BOTTOM


def _scale(values: Sequence[Number]) -> tuple[float, float]:
    low = min([0.0, *(float(v) for v in values)])
    high = max([0.0, *(float(v) for v in values)])
    return (low, high) if high > low else (low, low + 1.0)


def _y(value: Number, low: float, high: float) -> float:
    plot = HEIGHT - TOP - BOTTOM
    return round(TOP + plot * (1 - (float(value) - low) / (high - low)), 2)


def _ticks(low: float, high: float) -> list[tuple[float, str]]:
    return [(_y(low + (high - low) * i / 4, low, high), f"{low + (high - low) * i / 4:g}") for i in range(5)]


def _label_positions(labels: Sequence[str], step: float, offset: float) -> list[tuple[float, str]]:
    every = max(1, len(labels) // 8)  # at most about 8 labels under the axis
    return [(round(LEFT + offset + i * step, 2), label) for i, label in enumerate(labels) if i % every == 0]


def line_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[Number]]) -> Chart:
    values = [v for points in series.values() for v in points]
    low, high = _scale(values)
    step = (WIDTH - LEFT - RIGHT) / max(len(labels) - 1, 1)
    lines = [
        Series(
            name=name,
            colour=COLOURS[index % len(COLOURS)],
            points=" ".join(f"{round(LEFT + i * step, 2)},{_y(v, low, high)}" for i, v in enumerate(points)),
        )
        for index, (name, points) in enumerate(series.items())
    ]
    return Chart(
        title,
        "line",
        series=lines,
        ticks=_ticks(low, high),
        labels=_label_positions(labels, step, 0),
        baseline=_y(0, low, high),
    )


def bar_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[Number]]) -> Chart:
    values = [v for points in series.values() for v in points]
    low, high = _scale(values)
    zero = _y(0, low, high)
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    width = slot * 0.8 / max(len(series), 1)
    bars = []
    for index, (name, points) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        for i, value in enumerate(points):
            top = _y(value, low, high)
            bars.append(
                Bar(
                    x=round(LEFT + i * slot + slot * 0.1 + index * width, 2),
                    y=min(top, zero),
                    width=round(width, 2),
                    height=round(abs(zero - top), 2),
                    colour=colour,
                    title=f"{name} {labels[i]}: {value}",
                )
            )
    legend = [Series(name, COLOURS[i % len(COLOURS)]) for i, name in enumerate(series)]
    return Chart(
        title,
        "bar",
        series=legend,
        bars=bars,
        ticks=_ticks(low, high),
        labels=_label_positions(labels, slot, slot / 2),
        baseline=zero,
    )
