from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from engine.cli.bench.cpu import children, cpu_by_process, postgres_server, process_cpu_s, redis_server, spent


def test_a_busy_child_s_cpu_is_counted_and_a_gone_process_reads_nothing():
    spin = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\ntime.sleep(30)"
    busy = subprocess.Popen([sys.executable, "-c", spin])
    try:
        assert busy.pid in children(os.getpid())
        before = cpu_by_process({"busy": [busy.pid], "gone": [2**22 + 1]})
        deadline = time.monotonic() + 20
        while process_cpu_s(busy.pid) < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        used = spent(before, cpu_by_process({"busy": [busy.pid], "gone": [2**22 + 1]}))
    finally:
        busy.kill()
        busy.wait()
    assert used["gone"] == 0.0
    assert 0.0 < used["busy"] <= 0.3 + 0.1  # what it spent after the first reading
    assert process_cpu_s(busy.pid) == 0.0  # reaped: nothing left to read


def test_a_process_started_between_readings_counts_from_nothing():
    assert spent({"database": {1: 2.0}}, {"database": {1: 2.5, 7: 0.25}}) == {"database": 0.75}


@pytest.mark.postgres
def test_the_local_servers_are_found():
    database, queue = os.environ.get("TEST_POSTGRES_URL"), os.environ.get("TEST_REDIS_URL")
    if not (database and queue):
        pytest.skip("TEST_POSTGRES_URL and TEST_REDIS_URL are not set (tests/services/services.sh starts them)")
    server = postgres_server(database)
    assert len(server) >= 2 and all(process_cpu_s(pid) >= 0 for pid in server)  # the postmaster and its workers
    (redis,) = redis_server(queue)
    assert process_cpu_s(redis) > 0
