"""A scale-out deployment of real processes for the tests: several uvicorn API processes and
several `accrual worker` processes on one PostgreSQL database and one Redis queue, the layout
docs/deployment.md describes. PostgreSQL and Redis are the throwaway servers that
tests/services/services.sh starts (TEST_POSTGRES_URL, TEST_REDIS_URL); without them the tests
that need a deployment skip with a reason.

    >>> with Deployment(tmp_path, apis=2) as deployment:
    ...     worker = deployment.start_worker(tmp_path / "worker.log")
    ...     deployment.post_alternately(bodies)             # even bodies to API 0, odd ones to API 1
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from engine.cli.bench.ingest import free_port, wait_ready
from engine.cli.bench.loadgen import Response, post_json_all
from engine.cli.bench.pipeline import WORKER_ENV
from tests.databases import empty_database_url

ACCRUAL = str(Path(sys.executable).with_name("accrual"))
LEASE_S = 15  # how long a killed worker's event waits before another worker may take it
NO_REDIS = "TEST_REDIS_URL is not set (tests/services/services.sh starts a server)"


def redis_url() -> str:
    """The test Redis, emptied (stale wake-ups of an earlier run would only be no-ops, but an empty
    queue makes a test's counts its own); skips the test when there is none."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip(NO_REDIS)
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url


@dataclass
class Deployment:
    """`apis` API processes and the workers a test starts, on PostgreSQL (its public schema
    replaced) and Redis. The organisation "scale-out" has a key and a program whose one rule
    credits 1 PTS to each event's participant when `event.amount` > 0."""

    directory: Path
    apis: int = 2
    database_url: str = ""
    queue_url: str = ""
    key: str = ""
    program_id: str = ""
    urls: list[str] = field(default_factory=list)
    api_processes: list[subprocess.Popen] = field(default_factory=list)
    workers: list[subprocess.Popen] = field(default_factory=list)

    def __enter__(self) -> Deployment:
        self.database_url = empty_database_url("postgres", self.directory)
        self.queue_url = redis_url()
        # Prepared as an operator would: the schema, a key, then everything else through the API.
        self.accrual("db", "upgrade")
        self.key = self.accrual("keys", "create", "--org", "scale-out").strip()
        try:
            for index in range(self.apis):
                self._start_api(self.directory / f"api-{index}.log")
            self.program_id = self._create_program()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        processes = [*self.workers, *self.api_processes]
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def env(self) -> dict[str, str]:
        """What every process of the deployment shares: the database, the queue and the tunables
        (fast retries and reconciliation, so recovery after a crash takes seconds).

        The lease is `LEASE_S`, not the benchmarks' 3 s: the order checks rely on no live worker
        outliving its lease, and on a loaded machine a worker starved of CPU can hold one event
        for seconds. A lease that runs out under a live worker hands its lane on (A38), which is
        right for a dead worker and would make a slow one look like a crash."""
        return {
            **os.environ,
            **WORKER_ENV,
            "ACCRUAL_EVENT_LEASE_S": str(LEASE_S),
            "DATABASE_URL": self.database_url,
            "QUEUE_URL": self.queue_url,
        }

    def accrual(self, *arguments: str) -> str:
        """Run `accrual ARGUMENTS` with the deployment's environment; its standard output."""
        done = subprocess.run([ACCRUAL, *arguments], env=self.env(), capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def _create_program(self) -> str:
        """The program "Bench" with the asset PTS and one rule: 1 PTS when `event.amount` > 0."""
        import httpx

        with httpx.Client(base_url=self.urls[0], headers={"X-API-Key": self.key}, timeout=60) as client:
            program = client.post("/v1/programs", json={"name": "Bench"})
            assert program.status_code == 201, program.text
            program_id = program.json()["id"]
            asset = {"program_id": program_id, "name": "Points", "symbol": "PTS", "scale": 0}
            assert client.post("/v1/assets", json=asset).status_code == 201
            rule = {
                "program_id": program_id,
                "name": "one_point",
                "condition": "event.amount > 0",
                "actions": [{"type": "CREDIT", "asset_id": "PTS", "amount": "1"}],
            }
            created = client.post("/v1/rules", json=rule)
            assert created.status_code == 201, created.text
        return program_id

    def _start_api(self, log: Path) -> None:
        port = free_port()
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
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        with open(log, "ab") as output:  # the child keeps its own descriptor
            process = subprocess.Popen(command, env=self.env(), stdout=output, stderr=subprocess.STDOUT)
        self.api_processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, process, timeout_s=120)  # a loaded machine starts uvicorn slowly
        self.urls.append(url)

    def start_worker(self, log: Path, threads: int = 2) -> subprocess.Popen:
        command = [ACCRUAL, "worker", "-w", str(threads), "--poll-max", "0.1"]
        with open(log, "ab") as output:
            process = subprocess.Popen(command, env=self.env(), stdout=output, stderr=subprocess.STDOUT)
        self.workers.append(process)
        return process

    def stop_worker(self, process: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
        process.send_signal(sig)
        return process.wait(timeout=30)

    def shares(self, bodies: list[dict], duplicates: Sequence[dict] = ()) -> list[list[dict]]:
        """What each API is sent by `post_alternately`: every duplicate first, then body i when
        i % apis is its index."""
        return [[*duplicates, *bodies[index :: self.apis]] for index in range(self.apis)]

    def post_alternately(
        self, bodies: list[dict], duplicates: Sequence[dict] = (), concurrency: int = 8
    ) -> list[list[Response]]:
        """Post each API its share (`shares`), every API at once, so the copies of a duplicate
        race each other in different processes; `concurrency` connections to each API. Returns each
        API's responses, in its share's order."""

        async def post_all() -> list[list[Response]]:
            headers = {"X-API-Key": self.key}
            return list(
                await asyncio.gather(
                    *(
                        post_json_all(url, "/v1/events", share, headers=headers, concurrency=concurrency)
                        for url, share in zip(self.urls, self.shares(bodies, duplicates), strict=True)
                    )
                )
            )

        return asyncio.run(post_all())

    def rows(self, sql: str, *params: Any) -> list[tuple]:
        """Rows read with a connection of this process (psycopg, autocommit: every read sees the
        latest commits of the processes)."""
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def verify(self) -> subprocess.CompletedProcess:
        return subprocess.run(
            [ACCRUAL, "verify", "--database-url", self.database_url], capture_output=True, text=True, timeout=180
        )

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-3000:]}" for path in sorted(self.directory.glob("*.log"))
        )
