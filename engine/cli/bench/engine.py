"""How fast one event is evaluated against programs of 10, 100 and 1,000 rules.

    >>> rows = measure(sizes=(10,), events=50, repeats=1)
    >>> rows[0].rules
    10

Each program has a handful of rules that match a purchase (a CREDIT, a COUNTER, a TAG) and fills
the rest with rules guarded by `event.type == "<other type>"`, the shape of a real program with
many event types, so most rules do not match. Every event is evaluated twice in the same run: with
the rule index (the engine's normal path) and with the index switched off, so every condition runs
(the reference). The figures are microseconds per event (best of `repeats`) and events per second.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec

from engine.evaluator.evaluate import evaluate_event
from engine.model.bundle import Bundle
from engine.model.state import Balance, CounterState, EntityState, EvaluationInput, EventInput
from engine.rules.program import CompiledProgram, compile_program

SIZES = (10, 100, 1000)
_T0 = datetime(2026, 11, 26, 12, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    rules: int
    indexed_us: float  # microseconds per event, rule index on
    full_us: float  # microseconds per event, every condition evaluated
    matched: int  # rules matched per purchase event

    @property
    def events_per_second(self) -> float:
        return 1e6 / self.indexed_us if self.indexed_us else 0.0


def build_bundle(rule_count: int) -> Bundle:
    """A program of `rule_count` rules of which five can match a purchase."""
    rules = [
        _rule(
            "purchase_points",
            'event.type == "purchase" && event.amount > 10.0',
            [
                {"type": "CREDIT", "asset_id": "PTS", "amount": "event.amount * 10.0"},
                {"type": "COUNTER", "key": "spend", "value": "event.amount"},
            ],
        ),
        _rule(
            "big_basket",
            'event.type == "purchase" && event.items.exists(i, i.price > 50.0)',
            [{"type": "TAG", "tag": "big_basket"}],
        ),
        _rule(
            "vip_bonus",
            '"vip" in participant.tags && event.amount >= 20.0',
            [{"type": "CREDIT", "asset_id": "PTS", "amount": "round(event.amount * 0.5, 0)"}],
        ),
        _rule(
            "frequent",
            'get(participant.counters, "visits", 0.0) >= 10.0',
            [{"type": "COUNTER", "key": "visits", "value": 1}],
        ),
        _rule(
            "country",
            'participant.attributes.country == "DE" && event.channel == "app"',
            [{"type": "SET_ATTRIBUTE", "key": "last_channel", "value": "app"}],
        ),
    ]
    for index in range(max(0, rule_count - len(rules))):
        rules.append(
            _rule(
                f"campaign_{index:04d}",
                f'event.type == "campaign_{index % 250:03d}" && event.amount > {index % 40}.0',
                [{"type": "CREDIT", "asset_id": "PTS", "amount": index % 7 + 1}],
            )
        )
    data = {
        "program": {"key": "bench", "name": "Benchmark"},
        "assets": [{"symbol": "PTS", "name": "Points", "scale": 0}],
        "rules": rules[:rule_count],
    }
    return msgspec.convert(data, Bundle)


def _rule(name: str, condition: str, actions: list[dict]) -> dict:
    return {"name": name, "condition": condition, "actions": actions}


def without_index(program: CompiledProgram) -> CompiledProgram:
    """The same program with every rule unguarded, so each condition is evaluated."""
    return dataclasses.replace(program, index={}, indexed={}, unguarded=tuple(range(len(program.rules))))


def sample_events(count: int) -> list[EventInput]:
    events = []
    for number in range(count):
        kind = "purchase" if number % 2 == 0 else f"campaign_{number % 300:03d}"
        moment = _T0 + timedelta(seconds=number)
        data = {
            "type": kind,
            "amount": 12.5 + number % 90,
            "channel": "app" if number % 3 else "web",
            "items": [{"sku": f"S{number % 11}", "price": 15.0 + number % 60}],
        }
        events.append(EventInput(event_data=data, event_timestamp=moment, received_at=moment))
    return events


def sample_participant() -> EntityState:
    return EntityState(
        id="p_1",
        external_id="cust-42",
        tags=["newsletter", "vip"],
        counters={"visits": CounterState(value=Decimal(12))},
        attributes={"country": "DE"},
        balances={"PTS": Balance(available=Decimal(500))},
    )


def _time_per_event(program: CompiledProgram, events, participant, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for event in events:
            evaluate_event(program, EvaluationInput(event=event, participant=participant))
        best = min(best, (time.perf_counter() - started) / len(events))
    return best * 1e6


def measure(sizes=SIZES, events: int = 400, repeats: int = 5) -> list[Row]:
    """One row per program size: microseconds per event with and without the rule index."""
    sample, participant = sample_events(events), sample_participant()
    rows = []
    for size in sizes:
        program = compile_program(build_bundle(size))
        full = without_index(program)
        matched = sum(
            outcome.status == "MATCHED"
            for outcome in evaluate_event(program, EvaluationInput(event=sample[0], participant=participant)).rules
        )
        rows.append(
            Row(
                rules=size,
                indexed_us=_time_per_event(program, sample, participant, repeats),
                full_us=_time_per_event(full, sample, participant, repeats),
                matched=matched,
            )
        )
    return rows


def render(rows: list[Row]) -> list[str]:
    """The table the CLI prints, with the cost growth relative to the smallest program."""
    lines = [
        (
            f"{'rules':>6} {'indexed µs/event':>17} {'events/s':>10} {'growth':>7} "
            f"{'all conditions µs/event':>24} {'growth':>7} {'matched':>8}"
        )
    ]
    if not rows:
        return lines
    base = rows[0]
    for row in rows:
        lines.append(
            f"{row.rules:>6} {row.indexed_us:>17.1f} {row.events_per_second:>10,.0f} "
            f"{row.indexed_us / base.indexed_us:>6.1f}x {row.full_us:>24.1f} "
            f"{row.full_us / base.full_us:>6.1f}x {row.matched:>8}"
        )
    return lines
