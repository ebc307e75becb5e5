"""Pipeline throughput: events per second from `POST /v1/events` to COMPLETED, beside a trivial
Huey task on the same queue backend, in the same run.

    >>> report = measure(events=2000, worker_counts=(1, 2))
    >>> print("\n".join(render(report)))      # one row per worker count: events/s, trivial/s, ratio

Real processes on a fresh SQLite database (or a PostgreSQL server whose public schema is
replaced, and a Redis queue that is emptied): one uvicorn API process and 1..N `accrual worker`
processes (2 threads each). The program has 10 rules (conditions on the event, credits of an
asset), so every event is claimed, evaluated, posted to the ledger and completed. The reference
is the same worker processes draining `append_line` tasks (one line appended to a file per
task) enqueued on the same queue (SqlHuey, or Redis): the cost of the queue itself. It is measured before
and after the pipeline, each time once the system has settled, and the better figure is kept.

`System` is also what the worker's real-process tests use.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from engine.cli.bench.cpu import cpu_by_process, postgres_server, redis_server, spent
from engine.cli.bench.databases import close_connections, empty_queue, reset_database, rows_of
from engine.cli.bench.ingest import free_port, prepare, wait_ready
from engine.cli.bench.loadgen import Response, post_json_all

RULES = 10
WORKER_ENV = {  # fast recovery for tests and benchmarks; production keeps the defaults
    "ACCRUAL_EVENT_LEASE_S": "3",
    "ACCRUAL_RECONCILE_INTERVAL_S": "0.5",
    "ACCRUAL_RECONCILE_STALE_S": "2",
    "ACCRUAL_EVENT_RETRY_DELAYS": "0.2,0.2,0.2,0.2,0.2",
    "ACCRUAL_WEBHOOK_RETRY_DELAYS": "0.2,0.2,0.2,0.2,0.2,0.2,0.2",
    "ACCRUAL_WEBHOOKS_ALLOW_PRIVATE": "1",
}


def add_rules(database_url: str, program_id: str, rules: int = RULES) -> None:
    """The asset PTS (scale 0) and `rules` rules: rule i credits when `event.amount` exceeds i."""
    from engine.model.bundle import Asset, Credit, Rule
    from engine.store.catalog import create_asset, create_rule
    from engine.store.db import close_all, connect
    from engine.store.models import Program

    db = connect(database_url)
    with db.connection_context():
        organisation_id = Program.get_by_id(program_id).organisation_id
        create_asset(organisation_id, program_id, Asset(symbol="PTS", name="Points", scale=0))
        for i in range(rules):
            create_rule(
                organisation_id,
                program_id,
                Rule(
                    name=f"tier_{i}",
                    condition=f"event.type == 'purchase' && event.amount > {float(i)}",
                    actions=[Credit(asset_id="PTS", amount="1")],
                ),
            )
    close_all(db)


@dataclass
class System:
    """An API server and worker processes on one database under `directory`."""

    directory: Path
    rules: int = RULES
    worker_env: dict[str, str] = field(default_factory=lambda: dict(WORKER_ENV))
    database_url: str = ""  # a PostgreSQL URL (its public schema is replaced); default a SQLite file
    queue_url: str = "sql"  # or a Redis URL (its database is emptied)
    key: str = ""
    program_id: str = ""
    url: str = ""
    api: subprocess.Popen | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)

    def __enter__(self) -> System:
        if self.database_url:
            reset_database(self.database_url)
        else:
            self.database_url = f"sqlite:///{self.directory / 'accrual.db'}"
        if self.queue_url != "sql":
            empty_queue(self.queue_url)
        self.key, self.program_id = prepare(self.database_url)
        add_rules(self.database_url, self.program_id, self.rules)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.api = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "engine.cli.server:app_from_env",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=self._env(),
            stdout=subprocess.DEVNULL,
        )
        try:
            wait_ready(self.url, self.api, timeout_s=120)  # a loaded machine starts uvicorn slowly
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        close_connections()
        for process in [*self.workers, self.api]:
            if process is not None and process.poll() is None:
                process.terminate()
        for process in [*self.workers, self.api]:
            if process is not None:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def _env(self) -> dict[str, str]:
        return {**os.environ, **self.worker_env, "DATABASE_URL": self.database_url, "QUEUE_URL": self.queue_url}

    def start_worker(self, threads: int = 2, log: Path | None = None) -> subprocess.Popen:
        accrual = Path(sys.executable).with_name("accrual")
        command = [str(accrual), "worker", "-w", str(threads), "--poll-max", "0.1"]
        if log is None:
            process = subprocess.Popen(command, env=self._env(), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        else:
            with open(log, "ab") as output:  # the child keeps its own descriptor
                process = subprocess.Popen(command, env=self._env(), stdout=output, stderr=subprocess.STDOUT)
        self.workers.append(process)
        return process

    def stop_worker(self, process: subprocess.Popen, sig: int = signal.SIGTERM, timeout_s: float = 30) -> int:
        process.send_signal(sig)
        return process.wait(timeout=timeout_s)

    def post_events(self, bodies: list[dict], concurrency: int = 16) -> list[Response]:
        return asyncio.run(
            post_json_all(self.url, "/v1/events", bodies, headers={"X-API-Key": self.key}, concurrency=concurrency)
        )

    def event_body(
        self, n: int, *, participant: str, amount: float = 5.0, key: str | None = None, timestamp: str | None = None
    ) -> dict:
        return {
            "program_id": self.program_id,
            "external_id": participant,
            "idempotency_key": key or f"k-{n}",
            "event_timestamp": timestamp or "2026-01-01T12:00:00Z",
            "event_data": {"type": "purchase", "amount": amount, "n": n},
        }


def count_statuses(database_url: str) -> dict[str, int]:
    """Events by status."""
    return dict(rows_of(database_url, "SELECT status, COUNT(*) FROM event GROUP BY status"))


def wait_until(predicate, timeout_s: float, interval_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return predicate()


@dataclass(frozen=True)
class Run:
    workers: int
    events: int
    events_per_s: float
    trivial_tasks: int
    trivial_per_s: float
    cpu_ms: dict[str, float] = field(default_factory=dict)  # role -> CPU ms per event in the pipeline

    @property
    def ratio(self) -> float:
        return self.events_per_s / self.trivial_per_s if self.trivial_per_s else 0.0


@dataclass(frozen=True)
class Report:
    rules: int
    runs: list[Run]
    setup: str = "SQLite (WAL), SqlHuey queue on the same database"


def event_bodies(system: System, events: int) -> list[dict]:
    """`events` events over 200 participants, amounts 0-11 (so 0 to 10 of the rules credit)."""
    run_id = uuid.uuid4().hex[:8]
    return [
        system.event_body(n, participant=f"user_{n % 200}", amount=float(n % 12), key=f"{run_id}-{n}")
        for n in range(events)
    ]


def post_all(system: System, bodies: list[dict]) -> None:
    if any(r.status_code != 202 for r in system.post_events(bodies)):
        raise RuntimeError("the API refused some events")


def _pipeline_rate(system: System, events: int) -> float:
    bodies = event_bodies(system, events)
    before = count_statuses(system.database_url).get("COMPLETED", 0)
    started = time.perf_counter()
    post_all(system, bodies)
    # Polled through the partial index of open events: a poll costs the measured system little.
    if not wait_until(lambda: count_open(system.database_url) == 0, 600, 0.02):
        raise RuntimeError(f"events did not complete: {count_statuses(system.database_url)}")
    elapsed = time.perf_counter() - started
    completed = count_statuses(system.database_url).get("COMPLETED", 0) - before
    if completed != events:
        raise RuntimeError(f"{completed} of {events} events completed: {count_statuses(system.database_url)}")
    return events / elapsed


def count_open(database_url: str) -> int:
    """Events still PENDING or PROCESSING."""
    from engine.store.models import OPEN_EVENTS

    return rows_of(database_url, f"SELECT COUNT(*) FROM event WHERE {OPEN_EVENTS}")[0][0]


def _settle(system: System, quiet_s: float = 2.0) -> None:
    """Wait until no event is open, then a little more: right after a run the processes are still
    busy (the log checkpoint, the last webhooks), and a reference measured then comes out low."""
    wait_until(lambda: count_open(system.database_url) == 0, 600, 0.05)
    time.sleep(quiet_s)


def _trivial_rate(system: System, tasks: int) -> float:
    from engine.queue import configure_queue, reset_queue, submit
    from engine.store.db import close_all, connect

    out = system.directory / f"trivial-{uuid.uuid4().hex[:6]}.txt"
    db = connect(system.database_url)
    queue = configure_queue(db, system.queue_url)
    started = time.perf_counter()
    with db.connection_context():
        for n in range(tasks):
            with db.atomic():
                submit(queue, queue.append_line, str(out), str(n))

    def finished() -> bool:
        return out.exists() and out.read_text().count("\n") >= tasks

    if not wait_until(finished, 600, 0.02):
        raise RuntimeError("trivial tasks did not finish")
    elapsed = time.perf_counter() - started
    reset_queue()
    close_all(db)
    return tasks / elapsed


def measure(
    *,
    events: int = 2000,
    worker_counts: tuple[int, ...] = (1, 2),
    rules: int = RULES,
    database_url: str = "",
    queue_url: str = "sql",
) -> Report:
    """For each worker count: a fresh system, a warm-up, then the trivial figure, the pipeline and
    the trivial figure again, each on a settled system. The reference is the better trivial
    figure, so the ratio is never flattered by a reference taken while the system was busy.
    `database_url`: a
    PostgreSQL server (each system replaces its public schema; default SQLite files);
    `queue_url`: a Redis queue (emptied; default SqlHuey on the database)."""
    runs = []
    for workers in worker_counts:
        with (
            tempfile.TemporaryDirectory(prefix="accrual-pipeline-") as directory,
            System(Path(directory), rules=rules, database_url=database_url, queue_url=queue_url) as system,
        ):
            for _ in range(workers):
                system.start_worker()
            _pipeline_rate(system, min(200, events))  # warm-up: imports, compiled program cache, pools
            _trivial_rate(system, min(200, events))
            _settle(system)
            trivial_before = _trivial_rate(system, events)
            _settle(system)
            before = cpu_by_process(_roles(system))
            pipeline = _pipeline_rate(system, events)
            used = spent(before, cpu_by_process(_roles(system)))
            _settle(system)
            trivial_after = _trivial_rate(system, events)
            runs.append(
                Run(
                    workers=workers,
                    events=events,
                    events_per_s=pipeline,
                    trivial_tasks=events,
                    trivial_per_s=max(trivial_before, trivial_after),
                    cpu_ms={role: seconds * 1000 / events for role, seconds in used.items()},
                )
            )
    backend = "PostgreSQL" if database_url else "SQLite (WAL)"
    queue = "Redis queue" if queue_url != "sql" else "SqlHuey queue on the same database"
    return Report(rules=rules, runs=runs, setup=f"{backend}, {queue}")


def _roles(system: System) -> dict[str, list[int]]:
    """The processes of each part of the system; the database and the queue when they are servers
    of their own (on SQLite both live inside the API and the workers)."""
    roles = {
        "API": [system.api.pid] if system.api is not None else [],
        "workers": [worker.pid for worker in system.workers],
    }
    if not system.database_url.startswith("sqlite"):
        roles["database"] = postgres_server(system.database_url)
    if system.queue_url != "sql":
        roles["queue"] = redis_server(system.queue_url)
    return roles


def render(report: Report) -> list[str]:
    lines = [
        f"program of {report.rules} rules, {report.setup}, 2 threads per worker process",
        f"{'workers':>7}{'events':>8}{'events/s':>10}{'trivial tasks/s':>17}{'ratio':>8}",
    ]
    for run in report.runs:
        lines.append(
            f"{run.workers:>7}{run.events:>8}{run.events_per_s:>10.0f}{run.trivial_per_s:>17.0f}{run.ratio:>8.0%}"
        )
    for run in report.runs:
        if run.cpu_ms:
            parts = ", ".join(f"{role} {ms:.2f}" for role, ms in run.cpu_ms.items())
            lines.append(f"CPU ms per event, {run.workers} worker(s): {parts}")
    lines.append("events/s: POST /v1/events to COMPLETED; trivial: one append_line task per enqueue, the better")
    lines.append("of two runs (before and after the pipeline), each on a settled system")
    return lines
