"""How fast compiled rule expressions run, measured against hand-written Python doing the same work.

    >>> rows = measure(repeats=1, loops=200)
    >>> len(rows) >= 10
    True

Each case is a realistic loyalty condition or amount expression with a Python function written by
hand to compute the same value from the same bindings. Both run in the same process, one after
the other, so the ratio is meaningful on any machine; the figure that matters is the geometric
mean of the ratios (the target is at most 4x).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dsl import compile_expression
from engine.rules.compiler import VARIABLES

BINDINGS: dict[str, Any] = {
    "event": {
        "type": "purchase",
        "amount": 120.0,
        "category": "books",
        "channel": "app",
        "items": [
            {"sku": "SKU-1", "price": 25.0, "quantity": 2.0},
            {"sku": "SKU-2", "price": 15.0, "quantity": 1.0},
            {"sku": "SKU-3", "price": 55.0, "quantity": 1.0},
        ],
    },
    "participant": {
        "id": "p_1",
        "external_id": "cust-42",
        "status": "ACTIVE",
        "tags": ["newsletter", "vip"],
        "counters": {"purchases": 12.0, "visits": 40.0},
        "attributes": {"country": "DE", "segment": "gold"},
        "tiers": {"status": {"level": "gold", "rank": 2.0}},
    },
    "recipient": None,
    "program": {"tags": [], "counters": {}, "attributes": {}},
    "now": datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
}

_LAUNCH = datetime(2026, 1, 1, tzinfo=UTC)

# (expression, the same computation written by hand)
CASES: list[tuple[str, Callable[[Mapping[str, Any]], Any]]] = [
    ("event.type == 'purchase'", lambda b: b["event"]["type"] == "purchase"),
    ("event.type == 'purchase' && event.amount >= 50.0",
     lambda b: b["event"]["type"] == "purchase" and b["event"]["amount"] >= 50.0),
    ("event.amount * 0.1", lambda b: b["event"]["amount"] * 0.1),
    ("'vip' in participant.tags", lambda b: "vip" in b["participant"]["tags"]),
    ("event.category in ['books', 'music', 'games']",
     lambda b: b["event"]["category"] in ("books", "music", "games")),
    ("participant.counters.purchases >= 10.0 ? event.amount * 0.2 : event.amount * 0.1",
     lambda b: b["event"]["amount"] * (0.2 if b["participant"]["counters"]["purchases"] >= 10.0 else 0.1)),
    ("participant.attributes.country == 'DE' && event.amount > 100.0 && event.channel != 'pos'",
     lambda b: b["participant"]["attributes"]["country"] == "DE" and b["event"]["amount"] > 100.0
     and b["event"]["channel"] != "pos"),
    ("event.channel == 'app' || event.channel == 'web'",
     lambda b: b["event"]["channel"] == "app" or b["event"]["channel"] == "web"),
    ("has(participant.tiers.status) && participant.tiers.status.rank >= 2.0",
     lambda b: "status" in b["participant"]["tiers"] and b["participant"]["tiers"]["status"]["rank"] >= 2.0),
    ("event.amount >= 20.0 && !('blocked' in participant.tags)",
     lambda b: b["event"]["amount"] >= 20.0 and "blocked" not in b["participant"]["tags"]),
    ("event.items.exists(i, i.sku == 'SKU-3')",
     lambda b: any(i["sku"] == "SKU-3" for i in b["event"]["items"])),
    ("event.items.filter(i, i.price > 20.0).size() >= 2",
     lambda b: len([i for i in b["event"]["items"] if i["price"] > 20.0]) >= 2),
    ("now >= timestamp('2026-01-01T00:00:00Z') && event.type == 'purchase'",
     lambda b: b["now"] >= _LAUNCH and b["event"]["type"] == "purchase"),
    ("(event.amount - 10.0) * 2.0 + participant.counters.visits / 4.0",
     lambda b: (b["event"]["amount"] - 10.0) * 2.0 + b["participant"]["counters"]["visits"] / 4.0),
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Row:
    expression: str
    compiled_ns: float  # per evaluation
    python_ns: float  # per evaluation
    compile_us: float  # per compilation

    @property
    def ratio(self) -> float:
        return self.compiled_ns / self.python_ns


def _best_ns(
    compiled: Callable[[Mapping[str, Any]], Any],
    by_hand: Callable[[Mapping[str, Any]], Any],
    bindings: Mapping[str, Any],
    repeats: int,
    loops: int,
) -> tuple[float, float]:
    """Best time per call of each, measured alternately so both see the same machine load."""
    best = [math.inf, math.inf]
    for _ in range(repeats):
        for slot, fn in enumerate((compiled, by_hand)):
            start = time.perf_counter_ns()
            for _ in range(loops):
                fn(bindings)
            best[slot] = min(best[slot], (time.perf_counter_ns() - start) / loops)
    return best[0], best[1]


def measure(repeats: int = 7, loops: int = 10_000) -> list[Row]:
    """Time every case; the compiled and hand-written versions must agree before they are timed."""
    rows = []
    for text, by_hand in CASES:
        start = time.perf_counter_ns()
        compilations = 20
        for _ in range(compilations):
            expr = compile_expression(text, VARIABLES)
        compile_us = (time.perf_counter_ns() - start) / compilations / 1000
        expected, actual = by_hand(BINDINGS), expr.evaluate(BINDINGS)
        if actual != expected:
            raise AssertionError(f"{text!r} evaluated to {actual!r}, the reference to {expected!r}")
        compiled, python = _best_ns(expr.evaluate, by_hand, BINDINGS, repeats, loops)
        rows.append(Row(text, compiled, python, compile_us))
    return rows


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def report(rows: list[Row]) -> str:
    """The table the `accrual bench expressions` command prints."""
    width = max(len(row.expression) for row in rows)
    lines = [f"{'expression':<{width}}  {'compiled ns':>11}  {'python ns':>9}  {'ratio':>5}  {'compile µs':>10}"]
    for row in rows:
        lines.append(f"{row.expression:<{width}}  {row.compiled_ns:>11.0f}  {row.python_ns:>9.0f}  "
                     f"{row.ratio:>5.2f}  {row.compile_us:>10.0f}")  # fmt: skip
    mean = geometric_mean([row.ratio for row in rows])
    compile_mean = sum(row.compile_us for row in rows) / len(rows)
    lines.append(f"geometric-mean ratio {mean:.2f}x (target <= 4x); mean compile time {compile_mean:.0f} µs")
    return "\n".join(lines)
