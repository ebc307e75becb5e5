"""Lanes: how a claim finds its lane's next event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.store import lanes
from engine.store.db import is_postgres, write_transaction
from engine.store.lanes import lane_of
from engine.store.models import EventRecord


def _claim_sql(db, lane) -> tuple[str, list]:
    """The claim's SELECT and its parameters, as `take_next` sends them."""
    sent: list[tuple[str, list]] = []
    real = db.execute_sql
    db.execute_sql = lambda sql, params=None, *a, **k: sent.append((sql, params)) or real(sql, params, *a, **k)
    try:
        lanes.claim_next(lane, lease_s=30)
    finally:
        del db.execute_sql
    return next((sql, params) for sql, params in sent if "ORDER BY event_timestamp" in sql)


def test_a_claim_reads_its_lane_s_index_only(queue, world, db):
    """Regression: the claim asked for `status = 'PENDING'` (and its busy check for `status =
    'PROCESSING'`), which PostgreSQL's cached plans could serve from the index of due times, over
    the open events of every lane (0.15 ms a claim in a backlog of 1,000 events, 0.025 through
    the lane's index)."""
    base = datetime(2026, 4, 1, tzinfo=UTC)
    events = [world.event(f"p{n % 20}", key=f"e{n}", at=base + timedelta(minutes=n)) for n in range(400)]
    # Statistics taken when few events were open, as on a busy system between bursts.
    EventRecord.update(status="COMPLETED").where(EventRecord.id.not_in([e.id for e in events[:40]])).execute()
    if is_postgres(db):
        db.execute_sql("ANALYZE event")
    sql, params = _claim_sql(db, lane_of(events[0]))
    with write_transaction():
        if is_postgres(db):
            # The plan a prepared claim gets after five runs (generic: it cannot see the lane's
            # values), choosing among the indexes as in a big table.
            db.execute_sql("SET LOCAL enable_seqscan = off")
            db.execute_sql("SET LOCAL plan_cache_mode = force_generic_plan")
            numbered = sql
            for n in range(1, len(params) + 1):
                numbered = numbered.replace("%s", f"${n}", 1)
            db.execute_sql(f"PREPARE claim AS {numbered}")
            values = ", ".join(f"'{value}'" for value in params)
            plan = " ".join(row[0] for row in db.execute_sql(f"EXPLAIN EXECUTE claim({values})").fetchall())
            db.execute_sql("DEALLOCATE claim")
            assert "event_open_due" not in plan and plan.count("event_open_lane") == 2, plan
        else:  # the busy check reads the few live PROCESSING events: SQLite folds `<>` into `=`
            plan = " ".join(row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
            assert plan.startswith("SEARCH event USING INDEX event_open_lane"), plan
