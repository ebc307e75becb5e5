"""When automations fire: pure functions of a trigger, a time zone and a moment, shared by the
scheduler (`engine.store.automations`), bundles' test cases and the playground.

    >>> next_attribute_date("06-15", AttributeDateConfig(attribute="birthday", time="09:00"),
    ...                     "Europe/London", datetime(2026, 1, 1, tzinfo=UTC))
    datetime.datetime(2026, 6, 15, 8, 0, tzinfo=datetime.timezone.utc)

Every time is an aware UTC datetime; "after" is strict (a firing at exactly `after` is the one
already made). The zone is the automation's own, or the program's (D32).
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation

from engine.model.automation import AttributeDateConfig, IntervalConfig, ThresholdConfig, Trigger
from engine.model.calendar import zone
from engine.model.cron import fires_between, next_fire
from engine.model.durations import DurationError, parse_duration

_DATE = re.compile(r"^(?:(?P<year>\d{4})-)?(?P<month>\d{2})-(?P<day>\d{2})(?:[T ].*)?$")
_COMPARE = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "==": lambda a, b: a == b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}


def trigger_zone(trigger: Trigger, program_zone: str) -> str:
    """The wall clock of a trigger: its own zone, else the program's (D32)."""
    return trigger.timezone or program_zone


def next_run(trigger: Trigger, after: datetime, timezone: str) -> datetime | None:
    """The automation's next firing strictly after `after`: the next cron time, or a one_time
    trigger's own time when still ahead; None for `immediate` (it fires once, when created or
    triggered) and `participant_state` (its subscriptions fire, not the automation)."""
    if trigger.type == "cron" and trigger.cron_expression:
        return next_fire(trigger.cron_expression, after, timezone)
    if trigger.type == "one_time" and trigger.trigger_at is not None:
        moment = _utc(trigger.trigger_at)
        return moment if moment > after else None
    return None


def runs_between(trigger: Trigger, start: datetime, end: datetime, timezone: str, limit: int = 100) -> list[datetime]:
    """The automation's firings in `(start, end]` (cron and one_time), at most `limit`."""
    if trigger.type == "cron" and trigger.cron_expression:
        return fires_between(trigger.cron_expression, start, end, timezone, limit)
    moment = next_run(trigger, start, timezone)
    return [moment] if moment is not None and moment <= end and limit > 0 else []


# --- participant_state schedules --------------------------------------------------------------


def attribute_date(value: str) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) of an attribute holding `MM-DD`, `YYYY-MM-DD` or an RFC 3339
    time (its date part); None for anything else, or a day no calendar has."""
    found = _DATE.match(value.strip())
    if found is None:
        return None
    year = int(found["year"]) if found["year"] else None
    month, day = int(found["month"]), int(found["day"])
    if not 1 <= month <= 12 or not 1 <= day <= (29 if month == 2 else calendar.monthrange(2001, month)[1]):
        return None
    if year is not None and (year < 1 or ((month, day) == (2, 29) and not calendar.isleap(year))):
        return None
    return year, month, day


def next_attribute_date(value: str, config: AttributeDateConfig, timezone: str, after: datetime) -> datetime | None:
    """The next time strictly after `after` that the date in `value` falls at `config.time` on the
    zone's clock: every year (29 February on 28 February in other years), or the date itself for
    `recurrence: once` (None once past, or when `value` holds no year or no date)."""
    parsed = attribute_date(value)
    if parsed is None:
        return None
    year, month, day = parsed
    hour, minute = (int(part) for part in config.time.split(":"))
    clock = zone(timezone)
    if config.recurrence == "once":
        if year is None:
            return None
        moment = _local(clock, year, month, day, hour, minute)
        return moment if moment > after else None
    first = after.astimezone(clock).year
    for candidate_year in range(first, first + 2):
        candidate_day = day if (month, day) != (2, 29) or calendar.isleap(candidate_year) else 28
        moment = _local(clock, candidate_year, month, candidate_day, hour, minute)
        if moment > after:
            return moment
    return None  # unreachable: a yearly date always falls within two calendar years


def next_interval(config: IntervalConfig, anchor: datetime) -> datetime:
    """One interval after `anchor` (the subscription's start, its latest firing, or the
    participant's latest event)."""
    return anchor + parse_duration(config.interval)


def interval_problem(config: IntervalConfig) -> str | None:
    """None when the interval is a positive Go duration, else what is wrong."""
    try:
        step = parse_duration(config.interval)
    except DurationError as exc:
        return exc.message
    return None if step > timedelta(0) else f"interval must be positive, got {config.interval!r}"


def threshold_met(value: Decimal | float | int | None, config: ThresholdConfig) -> bool:
    """Whether a counter's effective value (None: the participant has no such counter, 0) meets
    the threshold, compared as decimals as tier criteria are."""
    try:
        threshold = Decimal(repr(config.threshold))
        current = Decimal(0) if value is None else Decimal(str(value))
    except InvalidOperation:
        return False
    return bool(_COMPARE[config.operator](current, threshold))


def _local(clock: tzinfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A wall-clock time as UTC: a time a fall-back repeats at its first occurrence, a time a
    spring-forward skips at the end of the gap, as cron times are (A140)."""
    wall = datetime(year, month, day, hour, minute)
    first = wall.replace(tzinfo=clock).astimezone(UTC)
    if first.astimezone(clock).replace(tzinfo=None) == wall:
        return first
    # in a gap: the first instant whose wall clock has passed the skipped time
    probe = min(first, wall.replace(tzinfo=clock, fold=1).astimezone(UTC))
    while probe.astimezone(clock).replace(tzinfo=None) < wall:
        probe += timedelta(minutes=1)
    return probe


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
