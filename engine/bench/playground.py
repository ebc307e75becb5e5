"""How long the playground's dry run of a 100-rule bundle takes, beside the bare evaluator.

    >>> report = measure(rules=10, runs=5)
    >>> report.warm.median_ms < report.cold.median_ms
    True

The request goes through the real application (`api.app.create_app` with the playground mounted,
its middleware and error table included) with Litestar's test client: `POST /playground/run` with
the three panes, exactly as the page posts them. Three figures come out of one run:

* warm: the bundle text is unchanged between requests (the author edits the event or the
  participant), so the loaded program comes from the playground's cache;
* cold: every request carries a bundle text not seen before (the author edits the bundle), so it
  is parsed, checked and compiled again;
* bare: `evaluate_event(program, event, participant, trace=True)` alone, the call the dry run
  makes, on the already compiled program.
"""

from __future__ import annotations

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

from engine.bench.engine import build_bundle, sample_events, sample_participant
from engine.evaluate import evaluate_event
from engine.loader import load_bundle_text

RULES = 100
RUNS = 200
TARGET_MS = 50.0


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
    cold: Timing  # POST /playground/run, bundle text new each time
    bare: Timing  # evaluate_event(..., trace=True) alone


def bundle_text(rules: int = RULES) -> str:
    """The engine benchmark's program of `rules` rules, as the YAML an author would paste."""
    return yaml.safe_dump(msgspec.to_builtins(build_bundle(rules)), sort_keys=False)


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


def _time(call: Callable[[], object], runs: int) -> Timing:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return Timing.of(samples)


def measure(rules: int = RULES, runs: int = RUNS) -> Report:
    """Time the three paths; every dry-run response is checked to have evaluated the bundle."""
    from litestar.testing import TestClient

    import playground
    from api.app import create_app
    from engine.store.db import connect

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    form = panes(rules)
    loaded = load_bundle_text(form["bundle"], "bench.yaml")
    if loaded.program is None:
        raise RuntimeError(f"the benchmark bundle does not load: {loaded.problems[:3]}")
    event, participant = sample_events(1)[0], sample_participant()
    with tempfile.TemporaryDirectory() as directory:
        database = connect(f"sqlite:///{Path(directory) / 'bench.db'}")
        app = create_app(database, route_handlers=[playground.router], configure_queue_for_app=False)
        with TestClient(app=app) as client:

            def post(data: dict[str, str]) -> None:
                response = client.post("/playground/run", data=data)
                if response.status_code != 200 or 'data-status="COMPLETED"' not in response.text:
                    raise RuntimeError(f"the dry run failed: {response.status_code} {response.text[:300]}")

            post(form)  # fills the cache, as the first keystroke would
            warm = _time(lambda: post(form), runs)
            counter = iter(range(10**9))
            cold_runs = max(runs // 10, 5)  # each one compiles the whole bundle
            cold = _time(lambda: post({**form, "bundle": form["bundle"] + f"# edit {next(counter)}\n"}), cold_runs)
        database.close()
    bare = _time(lambda: evaluate_event(loaded.program, event, participant, trace=True), runs)
    return Report(rules=rules, runs=runs, warm=warm, cold=cold, bare=bare)


def render(report: Report) -> list[str]:
    """The lines `accrual bench playground` prints."""
    rows = [
        ("dry run, bundle unchanged (cached)", report.warm),
        ("dry run, bundle edited (compiled)", report.cold),
        ("evaluate_event(trace=True) alone", report.bare),
    ]
    lines = [f"playground dry run of a {report.rules}-rule bundle through the app ({report.runs} runs)"]
    lines.append(f"{'path':<38} {'median ms':>10} {'p95 ms':>8}")
    lines += [f"{label:<38} {t.median_ms:>10.2f} {t.p95_ms:>8.2f}" for label, t in rows]
    verdict = "under" if report.warm.median_ms < TARGET_MS else "OVER"
    lines.append(f"target: a dry run with the bundle unchanged {verdict} {TARGET_MS:.0f} ms (median)")
    return lines
