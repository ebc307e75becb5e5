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
