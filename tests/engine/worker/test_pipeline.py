"""The default pipeline: what it applies is covered through the processor; here, its step times."""

from __future__ import annotations

import functools

from engine.store.lanes import lane_of
from engine.store.models import EventRecord
from engine.worker import processor
from engine.worker.pipeline import Phases, default_pipeline
from tests.engine.consumer import FAST


def test_phases_sum_the_time_of_each_step_over_the_events_run(queue, world):
    world.rule(amount="event.amount")
    events = [world.event(key=f"e{n}", amount=2.0) for n in range(3)]
    phases = Phases()
    pipeline = functools.partial(default_pipeline, phases=phases)
    assert processor.drain_lane(lane_of(events[0]), FAST, pipeline) == 3
    assert {EventRecord.get_by_id(e.id).status for e in events} == {"COMPLETED"}
    assert phases.events == 3
    assert set(phases.seconds) == {"context", "evaluate", "write"}
    assert all(seconds > 0 for seconds in phases.seconds.values())


def test_an_event_s_resolved_participant_is_written_with_its_outcome(queue, world, db):
    """The participant an event names by external id is written on the event's row by the
    statement that finishes it, not by one of its own."""
    world.rule(amount="event.amount")
    event = world.event(key="e1", amount=2.0)
    assert EventRecord.get_by_id(event.id).participant_id is None
    sent: list[str] = []
    real = db.execute_sql
    db.execute_sql = lambda sql, params=None, *args, **kwargs: sent.append(sql) or real(sql, params, *args, **kwargs)
    try:
        assert processor.drain_lane(lane_of(event), FAST) == 1
    finally:
        del db.execute_sql
    row = EventRecord.get_by_id(event.id)
    assert (row.status, row.participant_id) == ("COMPLETED", world.alice.id)
    event_updates = [sql for sql in sent if sql.startswith('UPDATE "event"')]
    assert len(event_updates) == 2  # the claim, and the finish with the participant
    assert '"participant_id"' in event_updates[1] and '"status"' in event_updates[1]
