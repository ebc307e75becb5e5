"""The ingest benchmark's request-log comparison: two real servers, logging off and on."""

from __future__ import annotations

import os

from engine.cli.bench.ingest import LoadResult, cpu_seconds, format_request_logs, measure_request_logs


def test_the_comparison_loads_both_servers_without_errors():
    (off,), (on,) = measure_request_logs(requests=100, concurrency=4, warmup=10, rounds=1)
    assert (off.requests, off.errors, on.requests, on.errors) == (100, 0, 100, 0)
    assert off.server_cpu_s > 0 and on.server_cpu_s > 0  # each server's own CPU time over its round
    lines = format_request_logs([off], [on])
    assert lines[-1].startswith("with request logs / without: ")


def test_the_report_states_the_ratio_of_the_best_rounds_and_of_the_medians():
    off = [_round(1.0), _round(2.0), _round(1.25)]
    on = [_round(1.25), _round(2.5), _round(1.0)]
    assert format_request_logs(off, on)[-1] == "with request logs / without: 100% (best), 100% (median)"
    assert format_request_logs(off, [_round(1.25), _round(2.5)])[-1] == (
        "with request logs / without: 80% (best), 75% (median)"
    )


def _round(seconds: float, cpu_s: float = 0.0) -> LoadResult:
    return LoadResult("events", 100, 0, seconds, 1.0, 2.0, cpu_s)


def test_the_report_states_the_server_cpu_per_request_of_the_best_and_the_median_rounds():
    off = [_round(1.0, 0.11), _round(1.1, 0.13), _round(1.2, 0.12)]
    on = [_round(1.0, 0.1125), _round(1.1, 0.1175)]
    lines = format_request_logs(off, on)
    assert lines[1].endswith("CPU us/req")
    assert [line.split()[-1] for line in lines[2:6]] == ["1100", "1125", "1200", "1150"]


def test_cpu_time_is_read_from_proc_and_zero_for_a_process_that_is_gone():
    spent = cpu_seconds(os.getpid())
    sum(range(2_000_000))
    assert cpu_seconds(os.getpid()) > spent
    assert cpu_seconds(2**22 + 1) == 0.0  # above the kernel's largest process id
