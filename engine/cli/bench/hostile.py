"""Hostile rules against a large event: how long each takes to end, evaluated as the worker runs
it (`evaluate_event`) and as the playground does (with a trace).

    >>> rows = measure(repeats=1)
    >>> all(row.status in ("SKIPPED_TIMEOUT", "SKIPPED_ERROR", "rejected") for row in rows)
    True

Each case is a condition written to make evaluation slow: nested loops over a list of 10,000,
splitting and concatenating long texts, comparing and printing lists that share sub-lists,
regular expressions with large programs, sorting and de-duplicating long lists. `HOSTILE_EVENT`
is within the ingest limits (about 190 KB as JSON). Every case must end SKIPPED_TIMEOUT or
SKIPPED_ERROR (or be refused when it is compiled), and no evaluation may take longer than the
bound: `dsl.limits.TIME_MAX_S` for one expression, `engine.limits.EVALUATION_TIME_MAX_S` for all
the rules of one event. `cpu_ms` is the evaluating thread's CPU time, which a loaded machine does
not inflate, and `gc_ms` the part of it Python's garbage collector took (a full collection walks
every object of the process, and may start in any allocation); `wall_ms` is what another writer
waiting for the storage lock would see.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec

from dsl.errors import DslError
from engine.evaluator.evaluate import evaluate_event
from engine.model.bundle import Bundle
from engine.model.result import EvaluationResult
from engine.model.state import EntityState, EvaluationInput, EventInput
from engine.rules.program import ProgramCompileError, compile_program

T0 = datetime(2026, 6, 1, tzinfo=UTC)
HOSTILE_EVENT: dict[str, object] = {
    "type": "h8",
    "t": "t" * 9_999,
    "items": list(range(10_000)),
    "s": "s" * 50_000,
    "u": "é" * 20_000,
}
_SPLITS = ", ".join(["size(event.t.split(''))"] * 150)
_CONCATS = ", ".join(["size(event.s + event.s)"] * 150)

# (name, condition): the first two are the tester's probes, word for word in shape.
CASES: list[tuple[str, str]] = [
    ("nested exists over 150 splits",
     f"event.type == 'h8' && event.items.exists(x, event.items.exists(y, [{_SPLITS}].size() < 0))"),
    ("150 concatenations of 100,000",
     f"[{_CONCATS}].size() < 0"),
    ("split in a loop",
     "event.items.exists(x, size(event.t.split('')) < 0)"),
    ("equal lists in a loop",
     "event.items.exists(x, event.items == event.items && x < 0.0)"),
    ("search a list in a loop",
     "event.items.exists(x, -1.0 in event.items)"),
    ("search strings in a loop",
     "event.items.map(x, string(x)).exists(y, 'zz' in event.items.map(z, string(z)))"),
    ("compare shared sub-lists",
     ("cel.bind(a, [event.items, event.items], cel.bind(b, [a, a, a, a], cel.bind(c, [b, b, b, b], c "
     "== c)))")),
    ("print shared sub-lists",
     ("cel.bind(a, [event.t, event.t], cel.bind(b, [a, a, a, a], cel.bind(c, [b, b, b, b], "
     "'%s'.format([c]).size() < 0)))")),
    ("lowerAscii of non-ASCII",
     "event.items.exists(x, event.u.lowerAscii().size() < 0)"),
    ("regex program of 900",
     "event.items.exists(x, event.t.matches('(t|tt){300}x'))"),
    ("a new regex every step",
     "event.items.exists(x, event.t.substring(0, 100).matches('(t|tt){30}' + string(x)))"),
    ("sort long texts",
     "cel.bind(l, event.items.map(x, event.s), l.sort().size() < 0)"),
    ("distinct lists",
     "cel.bind(l, event.items.map(x, [x]), l.distinct().size() < 0)"),
    ("join in a loop",
     "event.items.exists(x, event.items.map(y, event.t).join('').size() < 0)"),
    ("replace in a loop",
     "event.items.exists(x, event.t.replace('t', 'tttttttttt').size() < 0)"),
    ("round in nested loops",
     "event.items.exists(x, event.items.exists(y, round(x, 2) + round(y, 3) < 0.0))"),
    ("format in a loop",
     "event.items.exists(x, '%s %s %s'.format([x, x, event.t]).size() < 0)"),
    ("four nested loops",
     ("event.items.exists(a, event.items.exists(b, event.items.exists(c, event.items.exists(d, "
     "false))))")),
    ("arithmetic in nested loops",
     "event.items.exists(x, event.items.exists(y, x + y + x + y + x + y + x * y < 0.0))"),
    ("quote in a loop",
     "event.items.exists(x, strings.quote(event.s).size() < 0)"),
    ("bytes in a loop",
     "event.items.exists(x, size(bytes(event.u)) < 0)"),
    ("long texts in a list",
     "event.items.exists(x, event.t + 'x' in event.items.map(y, event.t))"),
    ("sets of lists",
     "sets.contains(event.items.map(x, [x]), event.items.map(x, [x]))"),
    ("compare long texts",
     "event.items.exists(x, event.s < event.s + '')"),
    ("time zones in a loop",
     "event.items.exists(x, now.getDayOfWeek('Europe/London') + now.getHours('Asia/Tokyo') < 0)"),
    ("constant loops",
     "lists.range(10000).all(x, lists.range(10000).all(y, x + y >= 0))"),
]  # fmt: skip
MANY_RULES = 200  # the program of the last row: this many copies of the first case


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    status: str  # of the (first) rule, or "rejected" when it does not compile
    code: str | None
    cpu_ms: float  # the slowest evaluation of the event, CPU time of the evaluating thread
    gc_ms: float  # of which garbage collection
    wall_ms: float
    traced_cpu_ms: float
    traced_gc_ms: float
    traced_status: str


def measure(repeats: int = 3) -> list[Row]:
    """Evaluate every case (and a program of `MANY_RULES` hostile rules) `repeats` times."""
    rows = [_measure_case(name, [condition], repeats) for name, condition in CASES]
    many = [CASES[0][1]] * MANY_RULES
    rows.append(_measure_case(f"a program of {MANY_RULES} such rules", many, repeats))
    return rows


def _program(conditions: list[str]) -> Bundle:
    rules = [
        {"name": f"hostile_{index}", "condition": condition, "actions": [{"type": "TAG", "tag": "never"}]}
        for index, condition in enumerate(conditions)
    ]
    data = {"program": {"key": "hostile", "name": "Hostile"}, "rules": rules}
    return msgspec.convert(data, Bundle)


def _measure_case(name: str, conditions: list[str], repeats: int) -> Row:
    try:
        program = compile_program(_program(conditions))
    except (ProgramCompileError, DslError) as exc:
        return Row(name, "rejected", getattr(exc, "code", None), 0.0, 0.0, 0.0, 0.0, 0.0, "rejected")
    inputs = EvaluationInput(
        event=EventInput(event_data=HOSTILE_EVENT, event_timestamp=T0, received_at=T0),
        participant=EntityState(id="p", external_id="p"),
    )
    plain, traced = (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)
    for _ in range(repeats):
        result, times = _timed(lambda: evaluate_event(program, inputs))
        plain = max(plain, times)
        traced_result, times = _timed(lambda: evaluate_event(program, inputs, trace=True))
        traced = max(traced, times)
    first = result.rules[0]
    return Row(name, str(first.status), first.error_code, plain[0], plain[1], plain[2], traced[0], traced[1],
               str(traced_result.rules[0].status))  # fmt: skip


def _timed(run: Callable[[], EvaluationResult]) -> tuple[EvaluationResult, tuple[float, float, float]]:
    """`run()`, and its (CPU, garbage collection, wall) milliseconds."""
    collecting: list[float] = []
    collected = [0.0]

    def on_collection(phase: str, info: dict) -> None:
        if phase == "start":
            collecting.append(time.thread_time())
        elif collecting:
            collected[0] += time.thread_time() - collecting.pop()

    gc.callbacks.append(on_collection)
    started_cpu, started = time.thread_time(), time.perf_counter()
    try:
        result = run()
    finally:
        gc.callbacks.remove(on_collection)
    cpu, wall = time.thread_time() - started_cpu, time.perf_counter() - started
    return result, (cpu * 1000, collected[0] * 1000, wall * 1000)


def report(rows: list[Row]) -> str:
    """The table `accrual bench hostile` prints."""
    width = max(len(row.name) for row in rows)
    lines = [(f"{'case':<{width}}  {'status':<15}  {'code':<22}  {'cpu ms':>7}  {'gc ms':>6}  {'wall ms':>7}  "
             f"{'traced cpu ms':>13}")]  # fmt: skip
    for row in rows:
        lines.append(f"{row.name:<{width}}  {row.status:<15}  {row.code or '':<22}  {row.cpu_ms:>7.1f}  "
                     f"{row.gc_ms:>6.1f}  {row.wall_ms:>7.1f}  {row.traced_cpu_ms:>13.1f}")  # fmt: skip
    slowest = max(rows, key=lambda row: row.cpu_ms)
    lines.append(f"slowest: {slowest.name}, {slowest.cpu_ms:.1f} ms of CPU ({slowest.wall_ms:.1f} ms wall)")
    return "\n".join(lines)
