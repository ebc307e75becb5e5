"""CPU time of the processes a benchmark runs, read from `/proc`: what an event costs each part
of the system (the API, the workers, the database server, the queue server), for the cost model
of docs/deployment.md.

    before = cpu_by_process(roles())
    ... the measured work ...
    used = spent(before, cpu_by_process(roles()))      # role -> CPU seconds, every thread

A role is a list of process ids; a PostgreSQL server is its postmaster and every process it has
started (found from a backend's parent), a Redis server the process its `INFO` names. Only a
server on this machine can be measured: one elsewhere reads as nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """User plus system CPU seconds of one process (every thread); 0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def children(parent: int) -> list[int]:
    """The processes whose parent is `parent`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _parent(int(entry.name)) == parent:
            found.append(int(entry.name))
    return found


def postgres_server(database_url: str) -> list[int]:
    """The local PostgreSQL server's processes: its postmaster and what it started."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()
        # Read while connected: once the connection closes, its backend process exits.
        postmaster = _parent(backend[0]) if backend else None
    if postmaster is None:
        return []
    return [postmaster, *children(postmaster)]


def redis_server(queue_url: str) -> list[int]:
    """The local Redis server's process."""
    import redis

    client = redis.Redis.from_url(queue_url)
    try:
        pid = int(client.info("server")["process_id"])
    finally:
        client.close()
    return [pid] if Path(f"/proc/{pid}").exists() else []


def cpu_by_process(roles: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    """CPU seconds so far of each role's processes, by process id."""
    return {role: {pid: process_cpu_s(pid) for pid in pids} for role, pids in roles.items()}


def spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds each role used between two readings; a process started in between (a new
    database connection) counts from nothing."""
    return {
        role: sum(seconds - before.get(role, {}).get(pid, 0.0) for pid, seconds in processes.items())
        for role, processes in after.items()
    }
