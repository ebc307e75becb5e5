"""Request logs in storage: written in batches by the API's log writer, listed, summed per day
for usage, and pruned by the scheduler after the retention period (A189, A190).

    write_request_logs([{...}, ...])              # one transaction for the batch
    daily_usage(org_id, start, end)               # [(day, requests, errors, average ms), ...]
    prune_request_logs(now, limit, 30)            # the oldest rows past the retention, at most `limit`

A log's id is a UUIDv7 made when its request started, so ordering by id is ordering by time and
a time range is an id range over the (organisation, id) index; its request id is made from it
(A267), so the request-id index too grows at its end.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import peewee

from engine.store import statements
from engine.store.db import database_proxy, write_transaction
from engine.store.models import RequestLog
from engine.store.reports.rollup import id_floor


def write_request_logs(rows: list[dict[str, Any]]) -> None:
    """One transaction for the batch, one prepared INSERT run for every row: building the SQL of a
    multi-row insert through the query builder cost several times its execution."""
    if not rows:
        return
    with write_transaction():
        statements.insert_each(RequestLog, rows)


def daily_usage(organisation_id: str, start: datetime, end: datetime) -> list[tuple[str, int, int, float]]:
    """Per UTC day with requests in [start, end): the day (YYYY-MM-DD), requests, errors (status
    400 and above) and the average duration in milliseconds, oldest day first."""
    database = database_proxy.obj
    day = (
        "substr(created_at, 1, 10)"
        if isinstance(database, peewee.SqliteDatabase)
        else "to_char(created_at, 'YYYY-MM-DD')"
    )
    mark = database.param
    rows = database.execute_sql(
        f"SELECT {day} AS day, COUNT(*), SUM(CASE WHEN status_code >= 400 THEN 1 ELSE 0 END), AVG(duration_ms) "
        f"FROM request_log WHERE organisation_id = {mark} AND id >= {mark} AND id < {mark} GROUP BY day ORDER BY day",
        [organisation_id, id_floor(start), id_floor(end)],
    ).fetchall()
    return [(row[0], int(row[1]), int(row[2] or 0), float(row[3] or 0.0)) for row in rows]


def prune_request_logs(now: datetime, limit: int, retention_days: float) -> int:
    """Delete up to `limit` logs made before `now - retention_days`, oldest first (by id, whose
    time is the creation time); returns how many were deleted."""
    cutoff = id_floor(now - timedelta(days=retention_days))
    with write_transaction():
        doomed = RequestLog.select(RequestLog.id).where(RequestLog.id < cutoff).order_by(RequestLog.id).limit(limit)
        ids = [row.id for row in doomed]
        if ids:
            RequestLog.delete().where(RequestLog.id.in_(ids)).execute()
    return len(ids)


def count_prunable(now: datetime, retention_days: float) -> int:
    cutoff = id_floor(now - timedelta(days=retention_days))
    return RequestLog.select().where(RequestLog.id < cutoff).count()
