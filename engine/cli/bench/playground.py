"""How long the playground's dry run of a 100-rule bundle takes, beside the bare evaluator.

    >>> report = measure(rules=10, runs=5)
    >>> report.edited.median_ms < report.cold.median_ms
    True

The request goes through the real application (`api.app.create_app` with the playground mounted,
its middleware and error table included) with Litestar's test client: `POST /playground/run` with
the three panes, exactly as the page posts them. Four figures come out of one run:

* unchanged: the bundle text is the same between requests (the author edits the event or the
  participant), so the loaded program comes from the playground's cache of loaded bundles;
* edited: one rule's condition changes between requests (the author edits the bundle), so the
  bundle is parsed, checked and assembled again, but only the changed expression is compiled
  (the others come from `engine.rules.expression_cache`);
* first load: nothing is cached, every expression is compiled (opening a bundle in a fresh
  process);
* bare: `evaluate_event(program, inputs, trace=True)` alone, the call the dry run
  makes, on the already compiled program.
"""

from __future__ import annotations

import itertools
import json
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec
import yaml

from engine.cli.bench.engine import build_bundle, sample_events, sample_participant
from engine.evaluator.evaluate import evaluate_event
from engine.model.state import EvaluationInput
from engine.rules.expression_cache import expression_cache
from engine.rules.loader import load_bundle_text

RULES = 100
RUNS = 200
TARGET_MS = 50.0
_CONDITION = "  condition: "


@dataclass(frozen=True)
class Timing:
    median_ms: float
    p95_ms: float

    @classmethod
    def of(cls, samples_s: list[float]) -> Timing:
        ordered = sorted(samples_s)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return cls(median_ms=statistics.median(ordered) * 1e3, p95_ms=p95 * 1e3)


@dataclass(frozen=True)
class Report:
    rules: int
    runs: int
    warm: Timing  # POST /playground/run, bundle unchanged
    edited: Timing  # POST /playground/run, one rule's condition changed each time
    cold: Timing  # POST /playground/run, nothing cached: every expression compiled
    bare: Timing  # evaluate_event(..., trace=True) alone
    compiled_per_edit: float  # expressions compiled per edited request (1 when only the edit is)


def bundle_text(rules: int = RULES) -> str:
    """The engine benchmark's program of `rules` rules, as the YAML an author would paste (one
    line per condition, so an edit can change one line)."""
    return yaml.safe_dump(msgspec.to_builtins(build_bundle(rules)), sort_keys=False, width=10_000)


def edit_one_rule(text: str, edit: int) -> str:
    """`text` with the condition of its middle rule changed (same meaning, new text): the
    author's edit of one rule. `edit` numbers the edits so that each one is new.

    >>> "&& 7 >= 0" in edit_one_rule(bundle_text(3), 7)
    True
    """
    lines = text.split("\n")
    conditions = [number for number, line in enumerate(lines) if line.startswith(_CONDITION)]
    if not conditions:
        raise ValueError("the bundle has no rule condition on a line of its own")
    chosen = lines[conditions[len(conditions) // 2]]
    # `a || b && n >= 0` is `a || (b && true)`: the edit never changes what the rule does
    addition = f" && {edit} >= 0"
    quoted = chosen[len(_CONDITION)] in "'\"" and chosen.endswith(chosen[len(_CONDITION)])
    edited = chosen[:-1] + addition + chosen[-1] if quoted else chosen + addition
    lines[conditions[len(conditions) // 2]] = edited
    return "\n".join(lines)


def panes(rules: int = RULES) -> dict[str, str]:
    """The form the page posts: bundle YAML, event JSON, participant YAML."""
    event = sample_events(1)[0]
    participant = sample_participant()
    balances = {symbol: str(balance.available) for symbol, balance in participant.balances.items()}
    return {
        "bundle": bundle_text(rules),
        "event": json.dumps({"event_timestamp": event.event_timestamp.isoformat(), "event_data": event.event_data}),
        "participant": yaml.safe_dump(
            {
                "tags": participant.tags,
                "counters": {key: int(counter.value) for key, counter in participant.counters.items()},
                "attributes": participant.attributes,
                "balances": balances,
            }
        ),
    }


def _time(call: Callable[[], object], runs: int, before: Callable[[], object] | None = None) -> Timing:
    samples = []
    for _ in range(runs):
        if before is not None:
            before()  # not timed
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return Timing.of(samples)


def measure(rules: int = RULES, runs: int = RUNS) -> Report:
    """Time the four paths; every dry-run response is checked to have evaluated the bundle."""
    from litestar.testing import TestClient

    import playground
    from api.app import create_app
    from engine.store.db import connect

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    form = panes(rules)
    loaded = load_bundle_text(form["bundle"], "bench.yaml")
    program = loaded.program
    if program is None:
        raise RuntimeError(f"the benchmark bundle does not load: {loaded.problems[:3]}")
    event, participant = sample_events(1)[0], sample_participant()
    edits = itertools.count(time.time_ns())  # numbers no earlier run in this process has compiled
    cold_runs = max(runs // 10, 5)  # each one compiles the whole bundle
    with tempfile.TemporaryDirectory() as directory:
        database = connect(f"sqlite:///{Path(directory) / 'bench.db'}")
        app = create_app(database, route_handlers=[playground.router], configure_queue_for_app=False)
        with TestClient(app=app) as client:

            def post(data: dict[str, str]) -> None:
                response = client.post("/playground/run", data=data)
                if response.status_code != 200 or 'data-status="COMPLETED"' not in response.text:
                    raise RuntimeError(f"the dry run failed: {response.status_code} {response.text[:300]}")

            post(form)  # fills the caches, as the first keystroke would
            warm = _time(lambda: post(form), runs)
            compiled_before = expression_cache.stats().compilations
            edited = _time(lambda: post({**form, "bundle": edit_one_rule(form["bundle"], next(edits))}), runs)
            compiled_per_edit = (expression_cache.stats().compilations - compiled_before) / runs
            cold = _time(
                lambda: post({**form, "bundle": edit_one_rule(form["bundle"], next(edits))}),
                cold_runs,
                before=expression_cache.clear,
            )
        database.close()
    bare = _time(
        lambda: evaluate_event(program, EvaluationInput(event=event, participant=participant), trace=True), runs
    )
    return Report(
        rules=rules, runs=runs, warm=warm, edited=edited, cold=cold, bare=bare, compiled_per_edit=compiled_per_edit
    )


def render(report: Report) -> list[str]:
    """The lines `accrual bench playground` prints."""
    rows = [
        ("dry run, bundle unchanged (cached)", report.warm),
        ("dry run, one rule edited", report.edited),
        ("dry run, first load (nothing cached)", report.cold),
        ("evaluate_event(trace=True) alone", report.bare),
    ]
    lines = [f"playground dry run of a {report.rules}-rule bundle through the app ({report.runs} runs)"]
    lines.append(f"{'path':<38} {'median ms':>10} {'p95 ms':>8}")
    lines += [f"{label:<38} {t.median_ms:>10.2f} {t.p95_ms:>8.2f}" for label, t in rows]
    lines.append(f"expressions compiled per edited run: {report.compiled_per_edit:.2f}")
    for label, timing in (("the bundle unchanged", report.warm), ("one rule edited", report.edited)):
        verdict = "under" if timing.median_ms < TARGET_MS else "OVER"
        lines.append(f"target: a dry run with {label} {verdict} {TARGET_MS:.0f} ms (median)")
    return lines
