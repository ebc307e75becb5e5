"""The ingest benchmark's request-log comparison: two real servers, logging off and on."""

from __future__ import annotations

from engine.cli.bench.ingest import LoadResult, format_request_logs, measure_request_logs


def test_the_comparison_loads_both_servers_without_errors():
    off, on = measure_request_logs(requests=100, concurrency=4, warmup=10, rounds=1)
    assert (off.requests, off.errors, on.requests, on.errors) == (100, 0, 100, 0)
    lines = format_request_logs(off, on, 1)
    assert lines[-1].startswith("with request logs / without: ")


def test_the_report_states_the_ratio():
    off = LoadResult(mode="events", requests=100, errors=0, seconds=1.0, p50_ms=1.0, p99_ms=2.0)
    on = LoadResult(mode="events", requests=100, errors=0, seconds=1.25, p50_ms=1.0, p99_ms=2.0)
    assert format_request_logs(off, on, 3)[-1] == "with request logs / without: 80%"
