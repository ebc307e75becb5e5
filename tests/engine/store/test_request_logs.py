"""Request logs in storage: usage per UTC day and pruning past the retention, oldest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.store.models import RequestLog
from engine.store.request_logs import count_prunable, daily_usage, prune_request_logs, write_request_logs
from tests.engine.store.reports.ledger_history import id_at
from tests.engine.world import World

NOW = datetime(2026, 3, 31, 12, tzinfo=UTC)


def logs(world: World, ages_days: list[float], status: int = 200) -> list[str]:
    rows = []
    for n, age in enumerate(ages_days):
        moment = NOW - timedelta(days=age)
        rows.append(
            {
                "id": id_at(moment),
                "organisation": world.org.id,
                "request_id": f"req_{age}_{n}",
                "method": "GET",
                "path": "/v1/programs",
                "status_code": status,
                "duration_ms": 2.0 * (n + 1),
                "created_at": moment,
            }
        )
    write_request_logs(rows)
    return [row["id"] for row in rows]


def test_prune_takes_the_oldest_past_the_retention_in_batches(db):
    world = World()
    ids = logs(world, [45, 40, 31, 29, 1])
    assert count_prunable(NOW, 30) == 3
    assert prune_request_logs(NOW, 2, 30) == 2
    assert prune_request_logs(NOW, 2, 30) == 1
    assert prune_request_logs(NOW, 2, 30) == 0
    assert [row.id for row in RequestLog.select().order_by(RequestLog.id)] == ids[3:]


def test_usage_per_day_counts_errors_and_averages_latency(db):
    world = World()
    logs(world, [2.1, 2.0])
    logs(world, [1.0], status=503)
    days = daily_usage(world.org.id, NOW - timedelta(days=3), NOW)
    assert days == [("2026-03-29", 2, 0, 3.0), ("2026-03-30", 1, 1, 2.0)]
    assert daily_usage(world.org.id, NOW - timedelta(days=1, hours=1), NOW) == [("2026-03-30", 1, 1, 2.0)]
