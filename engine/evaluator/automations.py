"""Automations evaluated: whether a firing creates an event for a participant (its
`participant_filter` and `guard_condition`), and which firings an automation makes in a window of
time. Pure: the scheduler (`engine/worker/automations.py`) hands `decide` the state storage
loaded; bundles' automation tests and the playground hand it the state the author wrote.

    >>> decide(compiled, participant, program_state, now)
    Decision(fire=True, error=None)
    >>> [f.at for f in firings(compiled, participant, program_state, after, until) if f.fired]
    [datetime.datetime(2026, 6, 15, 8, 0, tzinfo=datetime.timezone.utc)]

The expressions see `participant` (participants scope), `program` and `now`, the firing time, as
rules see them (D6). A condition that errors, or gives something other than a bool, creates no
event, and the error says which expression and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dsl.errors import DslError
from engine.evaluator.bindings import entity_binding, program_binding
from engine.model.automation import (
    AttributeDateConfig,
    CronConfig,
    IntervalConfig,
    ThresholdConfig,
    automation_event_data,
)
from engine.model.cron import fires_between
from engine.model.state import EntityState, ProgramState
from engine.model.triggers import next_attribute_date, next_interval, runs_between, threshold_met
from engine.rules.automations import CompiledAutomation

FIRINGS_SHOWN_MAX = 100


@dataclass(frozen=True)
class Decision:
    """Whether one firing creates an event for one participant; `error` when an expression could
    not say (which counts as not firing)."""

    fire: bool
    error: str | None = None
    reason: str | None = None  # why not: "participant_filter is false", ...


@dataclass(frozen=True)
class Firing:
    """One firing of an automation in a window: when, the event it creates, and whether it does."""

    at: datetime
    event_data: dict[str, Any]
    fired: bool
    reason: str | None = None


@dataclass(frozen=True)
class Anchors:
    """Where INTERVAL schedules count from: the subscription's start, the participant's latest
    event."""

    subscribed_at: datetime | None = None
    last_event_at: datetime | None = None


def automation_bindings(participant: EntityState | None, program: ProgramState, now: datetime) -> dict[str, Any]:
    """The CEL variables of an automation's expressions at firing time `now`."""
    return {
        "participant": entity_binding(participant, now),
        "program": program_binding(program, now),
        "now": now,
    }


def decide(
    automation: CompiledAutomation,
    participant: EntityState | None,
    program: ProgramState,
    now: datetime,
    *,
    with_filter: bool = True,
    with_guard: bool = True,
) -> Decision:
    """Whether the firing at `now` creates an event for `participant` (None: the program scope).
    `with_filter=False` skips `participant_filter` (a participant_state subscription was chosen by
    it when it subscribed; only the guard runs when it fires); `with_guard=False` skips the guard
    (choosing whom to subscribe)."""
    bindings = automation_bindings(participant, program, now)
    checks = (("participant_filter", automation.participant_filter),) if with_filter else ()
    guard = (("guard_condition", automation.guard_condition),) if with_guard else ()
    for name, expression in (*checks, *guard):
        if expression is None:
            continue
        try:
            value = expression.evaluate(bindings)
        except DslError as exc:
            return Decision(False, error=f"{name}: {exc.code}: {exc.message}")
        except RecursionError:
            return Decision(False, error=f"{name}: DSL_LIMIT_DEPTH: evaluation nested too deeply")
        if value is not True and value is not False:
            return Decision(False, error=f"{name}: must return a bool, got {type(value).__name__}")
        if value is False:
            return Decision(False, reason=f"{name} is false")
    return Decision(True)


def firing_times(
    automation: CompiledAutomation,
    participant: EntityState | None,
    after: datetime,
    until: datetime,
    anchors: Anchors | None = None,
    limit: int = FIRINGS_SHOWN_MAX,
) -> list[datetime]:
    """When the automation fires in `(after, until]` for `participant`, before its conditions: the
    calendar of a cron or one_time trigger, or the participant's own schedule (participant_state).
    An `immediate` automation fires when it is created: here, at `until`. A THRESHOLD schedule
    fires at `until` when the participant's counter meets it then."""
    trigger, schedule = automation.spec.trigger, automation.schedule
    if trigger.type == "immediate":
        return [until]
    if trigger.type != "participant_state":
        return runs_between(trigger, after, until, automation.timezone, limit)
    anchors = anchors or Anchors()
    state = participant or EntityState()
    if isinstance(schedule, AttributeDateConfig):
        return _attribute_dates(state, schedule, automation.timezone, after, until, limit)
    if isinstance(schedule, IntervalConfig):
        return _intervals(schedule, anchors, after, until, limit)
    if isinstance(schedule, CronConfig):
        return fires_between(schedule.cron_expression, after, until, automation.timezone, limit)
    if isinstance(schedule, ThresholdConfig):
        counter = state.counters.get(schedule.counter)
        return [until] if threshold_met(counter.value if counter else None, schedule) else []
    return []


def firings(
    automation: CompiledAutomation,
    participant: EntityState | None,
    program: ProgramState,
    after: datetime,
    until: datetime,
    anchors: Anchors | None = None,
    limit: int = FIRINGS_SHOWN_MAX,
) -> list[Firing]:
    """Each firing in `(after, until]` with its event data and whether it creates the event."""
    data = automation_event_data(automation.spec.event_name, automation.spec.payload)
    found = []
    for moment in firing_times(automation, participant, after, until, anchors, limit):
        decision = decide(automation, participant, program, moment)
        found.append(Firing(moment, data, decision.fire, decision.error or decision.reason))
    return found


def _attribute_dates(
    state: EntityState, config: AttributeDateConfig, timezone: str, after: datetime, until: datetime, limit: int
) -> list[datetime]:
    value = state.attributes.get(config.attribute)
    found: list[datetime] = []
    moment = after
    while value is not None and len(found) < limit:
        following = next_attribute_date(value, config, timezone, moment)
        if following is None or following > until:
            break
        found.append(following)
        moment = following
    return found


def _intervals(
    config: IntervalConfig, anchors: Anchors, after: datetime, until: datetime, limit: int
) -> list[datetime]:
    anchor = (anchors.last_event_at if config.since == "last_event" else None) or anchors.subscribed_at or after
    found: list[datetime] = []
    moment = next_interval(config, as_utc(anchor))
    while moment <= until and len(found) < limit:
        if moment > after:
            found.append(moment)
        if not config.repeat:
            break
        moment = next_interval(config, moment)
    return found


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def window(at: datetime, after: datetime | None) -> tuple[datetime, datetime]:
    """A test case's window `(after, at]`; without `after`, the minute ending at `at`."""
    end = as_utc(at)
    return (as_utc(after) if after is not None else end - timedelta(minutes=1)), end
