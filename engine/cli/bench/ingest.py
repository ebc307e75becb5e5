"""Ingest throughput: `POST /v1/events` beside `GET /v1/health` on the same server, in one run.

    >>> report = measure(requests=2000, concurrency=32, workers=1)
    >>> report.ratio          # ingest throughput / health throughput

A real uvicorn server (`engine.cli.server:app_from_env`) runs on a fresh SQLite database under a temporary
directory; the load comes from a separate process (an asyncio client with httpx over loopback),
so client and server do not share an interpreter. Each POST carries a new idempotency key, so
every request stores an event and its queue row in one transaction: the figure is durable
ingest, not a cache. The health endpoint is the reference: the same server, auth skipped, no I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import httpx


@dataclass(frozen=True)
class LoadResult:
    mode: str  # "events" or "health"
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    server_cpu_s: float = 0.0  # the server's CPU time over the round, where measured

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_us_per_request(self) -> float:
        return self.server_cpu_s / self.requests * 1e6 if self.requests else 0.0


@dataclass(frozen=True)
class Report:
    health: LoadResult
    events: LoadResult
    workers: int
    concurrency: int
    rounds: int = 1

    @property
    def ratio(self) -> float:
        return self.events.per_second / self.health.per_second if self.health.per_second else 0.0


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


async def _one(client: httpx.AsyncClient, key: str, program_id: str, mode: str, n: int, run_id: str) -> bool:
    if mode == "health":
        return (await client.get("/v1/health")).status_code == 200
    body = {
        "program_id": program_id,
        "external_id": f"user_{n % 1000}",
        "idempotency_key": f"{run_id}-{n}",
        "event_timestamp": "2026-01-01T12:00:00Z",
        "event_data": {"type": "purchase", "amount": 12.5, "sku": f"sku_{n % 50}"},
    }
    response = await client.post("/v1/events", json=body, headers={"X-API-Key": key})
    return response.status_code == 202


async def _load(url: str, key: str, program_id: str, mode: str, requests: int, concurrency: int) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(requests))
    run_id = uuid.uuid4().hex[:8]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        for n in counter:
            started = time.perf_counter()
            try:
                ok = await _one(client, key, program_id, mode, n, run_id)
            except httpx.TransportError:  # a connection dropped under load: an error, not the end of the run
                ok = False
            latencies.append((time.perf_counter() - started) * 1000)
            errors += 0 if ok else 1

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    latencies.sort()
    return LoadResult(
        mode=mode,
        requests=requests,
        errors=errors,
        seconds=seconds,
        p50_ms=_percentile(latencies, 0.50),
        p99_ms=_percentile(latencies, 0.99),
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(database_url: str) -> tuple[str, str]:
    """Schema, queue tables, an organisation with a key and a program: `(key, program_id)`."""
    from api.keys import create_key
    from engine.queue import create_queue_tables
    from engine.store.db import close_all, connect, database_proxy
    from engine.store.migrations import upgrade
    from engine.store.models import Organisation, Program

    db = connect(database_url)
    upgrade(db)
    create_queue_tables(db)
    key = create_key("bench")
    with database_proxy.connection_context():
        program = Program.create(organisation=Organisation.get(Organisation.name == "bench"), name="Bench")
    close_all(db)  # a pool's connections too
    return key, program.id


def wait_ready(url: str, process: subprocess.Popen, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not become ready in time")


def _run_client(url: str, key: str, program_id: str, mode: str, requests: int, concurrency: int) -> LoadResult:
    """The load generator in its own process; it prints one JSON line."""
    command = [
        sys.executable,
        "-m",
        "engine.cli.bench.ingest",
        url,
        key,
        program_id,
        mode,
        str(requests),
        str(concurrency),
    ]
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed: {done.stderr.strip().splitlines()[-1:]}")
    return LoadResult(**json.loads(done.stdout.strip().splitlines()[-1]))


@contextlib.contextmanager
def running_server(workers: int, request_logs: bool = True) -> Iterator[tuple[str, str, str]]:
    """A uvicorn server on a fresh SQLite database: `(url, key, program_id)`; stopped on exit."""
    with server_process(workers, request_logs) as (url, key, program_id, _server):
        yield url, key, program_id


@contextlib.contextmanager
def server_process(workers: int, request_logs: bool = True) -> Iterator[tuple[str, str, str, subprocess.Popen]]:
    """`running_server` that also hands out the server's process (for its CPU time)."""
    with tempfile.TemporaryDirectory(prefix="accrual-bench-") as directory:
        database_url = f"sqlite:///{Path(directory) / 'bench.db'}"
        key, program_id = prepare(database_url)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "QUEUE_URL": "sql",
            "ACCRUAL_REQUEST_LOGS": "1" if request_logs else "0",
        }
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "engine.cli.server:app_from_env",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        server = subprocess.Popen(command, env=env)
        try:
            wait_ready(url, server)
            yield url, key, program_id, server
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system, every thread) process `pid` has used so far; 0.0 where
    `/proc` is missing."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    *, requests: int = 3000, concurrency: int = 32, workers: int = 1, warmup: int = 200, rounds: int = 3
) -> Report:
    """Start a server, load `/v1/health` and `/v1/events` in alternating rounds, stop the server;
    the best round of each (alternating rounds keep a busy machine from favouring one endpoint)."""
    with running_server(workers) as (url, key, program_id):
        _run_client(url, key, program_id, "health", warmup, concurrency)
        _run_client(url, key, program_id, "events", warmup, concurrency)
        healths, events_runs = [], []
        for _ in range(rounds):
            healths.append(_run_client(url, key, program_id, "health", requests, concurrency))
            events_runs.append(_run_client(url, key, program_id, "events", requests, concurrency))
    health = max(healths, key=lambda r: r.per_second)
    events = max(events_runs, key=lambda r: r.per_second)
    return Report(health=health, events=events, workers=workers, concurrency=concurrency, rounds=rounds)


def measure_request_logs(
    *, requests: int = 3000, concurrency: int = 32, warmup: int = 200, rounds: int = 3
) -> tuple[list[LoadResult], list[LoadResult]]:
    """`POST /v1/events` on two servers, request logs off and on, in alternating rounds: every
    round of each, `(off, on)`, with the server's CPU time over the round."""
    with server_process(1, request_logs=False) as off, server_process(1, request_logs=True) as on:
        for url, key, program_id, _server in (off, on):
            _run_client(url, key, program_id, "events", warmup, concurrency)
        results: dict[bool, list[LoadResult]] = {False: [], True: []}
        for _ in range(rounds):
            for logging_on, (url, key, program_id, server) in ((False, off), (True, on)):
                before = cpu_seconds(server.pid)
                result = _run_client(url, key, program_id, "events", requests, concurrency)
                results[logging_on].append(replace(result, server_cpu_s=cpu_seconds(server.pid) - before))
    return results[False], results[True]


def format_request_logs(off: list[LoadResult], on: list[LoadResult]) -> list[str]:
    """The best round of each server, and the medians of the rounds' rates and CPU times, which
    a busy machine moves less than it moves the best."""
    best_off, best_on = (max(rounds, key=lambda r: r.per_second) for rounds in (off, on))
    lines = [
        f"POST /v1/events, {len(off)} alternating rounds per server",
        f"{'request logs':<14}{'requests':>9}{'errors':>8}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/req':>12}",
    ]
    for name, result in (("off, best", best_off), ("on, best", best_on)):
        lines.append(
            f"{name:<14}{result.requests:>9}{result.errors:>8}{result.per_second:>8.0f}"
            f"{result.p50_ms:>9.1f}{result.p99_ms:>9.1f}{result.cpu_us_per_request:>12.0f}"
        )
    for name, rounds in (("off, median", off), ("on, median", on)):
        rate = statistics.median(r.per_second for r in rounds)
        cpu = statistics.median(r.cpu_us_per_request for r in rounds)
        lines.append(f"{name:<14}{'':>26}{rate:>8.0f}{'':>18}{cpu:>12.0f}")
    ratio = best_on.per_second / best_off.per_second if best_off.per_second else 0.0
    medians = [statistics.median(r.per_second for r in rounds) for rounds in (off, on)]
    median_ratio = medians[1] / medians[0] if medians[0] else 0.0
    lines.append(f"with request logs / without: {ratio:.0%} (best), {median_ratio:.0%} (median)")
    return lines


def format_report(report: Report) -> list[str]:
    lines = [
        (
            f"uvicorn workers: {report.workers}, client concurrency: {report.concurrency}, "
            f"best of {report.rounds} alternating rounds"
        ),
        f"{'endpoint':<18}{'requests':>9}{'errors':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}",
    ]
    for name, result in (("GET /v1/health", report.health), ("POST /v1/events", report.events)):
        lines.append(
            f"{name:<18}{result.requests:>9}{result.errors:>8}{result.per_second:>10.0f}"
            f"{result.p50_ms:>9.1f}{result.p99_ms:>9.1f}"
        )
    lines.append(f"ingest / health throughput: {report.ratio:.0%}")
    return lines


if __name__ == "__main__":  # the load generator process of `_run_client`
    url, key, program_id, mode, count, concurrency = sys.argv[1:7]
    result = asyncio.run(_load(url, key, program_id, mode, int(count), int(concurrency)))
    print(json.dumps(asdict(result)))
