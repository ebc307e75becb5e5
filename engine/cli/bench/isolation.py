"""One organisation's ingest while another's hostile rule runs: the latency of `POST /v1/events`
for organisation B, alone and while the worker processes organisation A's hostile events.

    >>> report = measure(seconds=10)                   # SQLite under a temporary directory
    >>> report.hostile.p99_ms, report.quiet.p99_ms      # B's ingest, with and without A's load

Real processes: one uvicorn API process and one `accrual worker` (two threads) on one database
(a fresh SQLite file, or the PostgreSQL server given, whose public schema is replaced). A's
program holds the tester's hostile rule (`hostile.CASES[0]`: nested loops over 10,000 items
around 150 splits of a 9,999-character text) and A posts `hostile.HOSTILE_EVENT` (about 190 KB)
for as long as B is measured, each event for another participant, so both worker threads are busy
with them. B's program has one ordinary rule; B posts at a steady rate from its own connection.
Afterwards every hostile event must have ended COMPLETED with its rule SKIPPED_TIMEOUT.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from engine.cli.bench.databases import reset_database
from engine.cli.bench.hostile import CASES, HOSTILE_EVENT
from engine.cli.bench.ingest import _percentile, free_port, wait_ready
from engine.cli.bench.pipeline import WORKER_ENV

HOSTILE_RULE = CASES[0][1]


@dataclass(frozen=True)
class Latencies:
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True)
class Report:
    database: str  # "sqlite" or "postgresql"
    quiet: Latencies  # B alone
    hostile: Latencies  # B while A's hostile events are processed
    hostile_events: int  # A's events processed meanwhile
    hostile_outcomes: dict[str, int]  # "status/rule status" -> count, over A's events
    hostile_ms_p50: float  # from receipt to completion, queueing included
    hostile_ms_max: float


def _prepare(database_url: str) -> dict[str, str]:
    """Schema, two organisations with a key and a program each, and their rules."""
    from api.keys import create_key
    from engine.model.bundle import Rule, Tag
    from engine.queue import create_queue_tables
    from engine.store.catalog import create_rule
    from engine.store.db import connect, database_proxy
    from engine.store.migrations import upgrade
    from engine.store.models import Organisation, Program

    db = connect(database_url)
    upgrade(db)
    create_queue_tables(db)
    names: dict[str, str] = {}
    for org, condition in (("victim", "event.type == 'purchase' && event.amount > 1.0"), ("attacker", HOSTILE_RULE)):
        names[f"{org}_key"] = create_key(org)
        with database_proxy.connection_context():
            organisation = Organisation.get(Organisation.name == org)
            program = Program.create(organisation=organisation, name=org.title())
        create_rule(organisation.id, program.id, Rule(name="rule", condition=condition, actions=[Tag(tag="seen")]))
        names[f"{org}_program"] = program.id
    _close(db)
    return names


def _event(program_id: str, participant: str, key: str, data: dict) -> dict:
    return {"program_id": program_id, "external_id": participant, "idempotency_key": key,
            "event_timestamp": "2026-06-01T12:00:00Z", "event_data": data}  # fmt: skip


def _measure_ingest(url: str, key: str, program_id: str, seconds: float, rate: float, tag: str) -> Latencies:
    """B's requests, one every 1/rate s, each timed from send to answer."""
    latencies: list[float] = []
    errors = 0
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=60) as client:
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < seconds:
            body = _event(program_id, f"b-{n % 20}", f"{tag}-{n}", {"type": "purchase", "amount": 5.0})
            sent = time.perf_counter()
            response = client.post("/v1/events", json=body)
            latencies.append((time.perf_counter() - sent) * 1000)
            errors += response.status_code != 202
            n += 1
            pause = started + n / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
    ordered = sorted(latencies)
    return Latencies(len(ordered), errors, _percentile(ordered, 0.5), _percentile(ordered, 0.99), ordered[-1])


def _attack(url: str, key: str, program_id: str, stop: threading.Event, posted: list[int]) -> None:
    """A's hostile events, one every 20 ms, a new participant each (one lane each)."""
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=60) as client:
        n = 0
        while not stop.is_set():
            response = client.post("/v1/events", json=_event(program_id, f"a-{n}", f"a-{n}", HOSTILE_EVENT))
            if response.status_code == 202:
                posted.append(n)
            n += 1
            time.sleep(0.02)


def _outcomes(database_url: str, program_id: str) -> tuple[dict[str, int], list[float], int]:
    from engine.store.db import connect, database_proxy
    from engine.store.models import EventRecord, RuleEvaluation

    db = connect(database_url)
    outcomes: dict[str, int] = {}
    held: list[float] = []
    with database_proxy.connection_context():
        events = list(EventRecord.select().where(EventRecord.program == program_id))
        for event in events:
            statuses = [row.status for row in RuleEvaluation.select().where(RuleEvaluation.event == event.id)]
            label = f"{event.status}/{','.join(statuses) or '-'}"
            outcomes[label] = outcomes.get(label, 0) + 1
            if event.processed_at is not None:
                held.append((event.processed_at - event.created_at).total_seconds() * 1000)
    _close(db)
    return outcomes, sorted(held), len(events)


def measure(database_url: str | None = None, seconds: float = 15.0, rate: float = 20.0) -> Report:
    """Run both phases on `database_url` (default: a SQLite file in a temporary directory)."""
    with tempfile.TemporaryDirectory(prefix="accrual-isolation-") as directory:
        url_of_database = database_url or f"sqlite:///{Path(directory) / 'accrual.db'}"
        if url_of_database.startswith("postgres"):
            reset_database(url_of_database)
        names = _prepare(url_of_database)
        env = {**os.environ, **WORKER_ENV, "DATABASE_URL": url_of_database, "QUEUE_URL": "sql"}
        port = free_port()
        api_url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "uvicorn", "engine.cli.server:app_from_env", "--factory", "--host",
                   "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"]  # fmt: skip
        api = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        accrual = Path(sys.executable).with_name("accrual")
        worker = subprocess.Popen([str(accrual), "worker", "-w", "2", "--poll-max", "0.1"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            wait_ready(api_url, api, timeout_s=120)
            quiet = _measure_ingest(api_url, names["victim_key"], names["victim_program"], seconds, rate, "quiet")
            stop, posted = threading.Event(), list[int]()
            attacker = threading.Thread(
                target=_attack, args=(api_url, names["attacker_key"], names["attacker_program"], stop, posted)
            )
            attacker.start()
            time.sleep(1.0)  # the worker busy with A's events before B is measured
            hostile = _measure_ingest(api_url, names["victim_key"], names["victim_program"], seconds, rate, "hostile")
            stop.set()
            attacker.join()
            _wait_processed(url_of_database, names["attacker_program"], timeout_s=120)
        finally:
            for process in (worker, api):
                process.terminate()
            for process in (worker, api):
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        outcomes, held, count = _outcomes(url_of_database, names["attacker_program"])
    return Report(
        database="postgresql" if url_of_database.startswith("postgres") else "sqlite",
        quiet=quiet,
        hostile=hostile,
        hostile_events=count,
        hostile_outcomes=outcomes,
        hostile_ms_p50=_percentile(held, 0.5),
        hostile_ms_max=held[-1] if held else 0.0,
    )


def _wait_processed(database_url: str, program_id: str, timeout_s: float) -> None:
    from engine.store.db import connect, database_proxy
    from engine.store.models import EventRecord

    deadline = time.monotonic() + timeout_s
    db = connect(database_url)
    try:
        while time.monotonic() < deadline:
            with database_proxy.connection_context():
                open_events = (
                    EventRecord.select()
                    .where((EventRecord.program == program_id) & EventRecord.status.in_(("PENDING", "PROCESSING")))
                    .count()
                )
            if open_events == 0:
                return
            time.sleep(0.2)
    finally:
        _close(db)


def render(report: Report) -> list[str]:
    """What `accrual bench isolation` prints."""
    header = f"{'B ingest':<28}  {'requests':>8}  {'errors':>6}  {'p50 ms':>7}  {'p99 ms':>7}  {'max ms':>7}"
    rows = [f"database: {report.database}", header]
    for label, latencies in (("alone", report.quiet), ("while A's hostile rule runs", report.hostile)):
        rows.append(f"{label:<28}  {latencies.requests:>8}  {latencies.errors:>6}  {latencies.p50_ms:>7.1f}  "
                    f"{latencies.p99_ms:>7.1f}  {latencies.max_ms:>7.1f}")  # fmt: skip
    outcomes = ", ".join(f"{label}: {count}" for label, count in sorted(report.hostile_outcomes.items()))
    rows.append(f"A's hostile events: {report.hostile_events} ({outcomes})")
    rows.append(f"from receipt to completion: p50 {report.hostile_ms_p50:.0f} ms, max {report.hostile_ms_max:.0f} ms")
    return rows


def _close(db: Any) -> None:
    """Every connection of `db`, pooled ones too."""
    db.close_all() if hasattr(db, "close_all") else db.close()
