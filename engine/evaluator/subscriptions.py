"""When a participant's subscription to a participant_state automation fires next (A149): pure,
from the schedule, the participant's state and the subscription's own history.

    >>> next_trigger(birthday, participant, anchor=subscribed_at, last_triggered_at=None)
    datetime.datetime(2026, 6, 15, 8, 0, tzinfo=datetime.timezone.utc)

`anchor` is when the participant subscribed, or its latest event for an INTERVAL schedule counted
`since: last_event`; `last_triggered_at` the subscription's latest firing. None: it fires no more
(a date that has passed, a once-only schedule that fired, an attribute the participant lacks).
THRESHOLD schedules have no time: `threshold_fires` says whether a check fires.
"""

from __future__ import annotations

from datetime import datetime

from engine.model.automation import AttributeDateConfig, CronConfig, IntervalConfig, ThresholdConfig
from engine.model.cron import next_fire
from engine.model.state import EntityState
from engine.model.triggers import next_attribute_date, next_interval, threshold_met
from engine.rules.automations import CompiledAutomation


def next_trigger(
    automation: CompiledAutomation,
    participant: EntityState,
    *,
    anchor: datetime,
    last_triggered_at: datetime | None,
) -> datetime | None:
    """The subscription's next firing (possibly already past: then it is due now)."""
    schedule = automation.schedule
    after = last_triggered_at or anchor
    if isinstance(schedule, AttributeDateConfig):
        value = participant.attributes.get(schedule.attribute)
        if value is None or (schedule.recurrence == "once" and last_triggered_at is not None):
            return None
        return next_attribute_date(value, schedule, automation.timezone, after)
    if isinstance(schedule, IntervalConfig):
        if last_triggered_at is not None and last_triggered_at >= anchor:  # fired in this stretch
            return next_interval(schedule, last_triggered_at) if schedule.repeat else None
        return next_interval(schedule, anchor)
    if isinstance(schedule, CronConfig):
        return next_fire(schedule.cron_expression, after, automation.timezone)
    return None


def threshold_fires(automation: CompiledAutomation, participant: EntityState, *, armed: bool) -> tuple[bool, bool]:
    """(fires now, armed afterwards) for a THRESHOLD check: it fires when the counter meets the
    threshold while armed; a `repeat` schedule is armed again once the counter stops meeting it."""
    schedule = automation.schedule
    if not isinstance(schedule, ThresholdConfig):
        return False, armed
    counter = participant.counters.get(schedule.counter)
    met = threshold_met(counter.value if counter is not None else None, schedule)
    if met:
        return armed, False
    return False, armed or schedule.repeat
