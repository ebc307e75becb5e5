"""The lifecycle block of a tier type: how a level is kept, re-earned and lost over time (A125).

Scrip's five parts, one Struct each, for bundle files and the tier API alike (D28):

    lifecycle:
      retention: {mode: PERIOD_BASED}                    # or {mode: ACTIVITY_REFRESH, duration: 8760h}
      qualification_period: {type: FIXED_YEAR, start_month: 4, start_day: 1}   # CALENDAR_YEAR | NONE
      status_validity: {extend_months: 2}
      downgrade_policy: {mode: DROP_ONE, grace_days: 30, min_level: silver}
      counters: {qualifying: [qualifying_miles], rollover: EXCESS}

An empty block (`{}`, the default) is a rules-only tier: levels change by SET_TIER, the API and
auto-qualification, and lapse only at an `expires_at`. What a field means alone is in its Struct;
what fields mean together is checked by `lifecycle_problems`, which reports each contradiction
at the field it is about.
"""

from __future__ import annotations

import calendar
import difflib
from collections.abc import Iterable
from datetime import timedelta
from typing import Annotated, Literal, NamedTuple

import msgspec

from engine.model.durations import DurationError, parse_duration

RetentionMode = Literal["PERIOD_BASED", "ACTIVITY_REFRESH"]
PeriodType = Literal["CALENDAR_YEAR", "FIXED_YEAR", "NONE"]
DowngradeMode = Literal["DROP_TO_QUALIFYING", "DROP_ONE", "HOLD"]
Rollover = Literal["NONE", "EXCESS"]
CounterKey = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
LevelKey = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]*$", max_length=100)]

EXTEND_MONTHS_MAX = 120  # ten years past a period end
GRACE_DAYS_MAX = 3660  # ten years of grace
QUALIFYING_COUNTERS_MAX = 20


class _Struct(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """As the bundle's Structs: unknown keys are errors, defaults are not echoed."""


class Retention(_Struct):
    """PERIOD_BASED: the level is re-earned at each end of the qualification period.
    ACTIVITY_REFRESH: the level lapses after `duration` (a Go duration) without a processed event
    of the member; each event starts the wait again."""

    mode: RetentionMode
    duration: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None


class QualificationPeriod(_Struct):
    """The cycle PERIOD_BASED retention and counter rollover follow, in the program's time zone
    (D32): CALENDAR_YEAR starts on January 1, FIXED_YEAR on `start_month`/`start_day`, NONE has
    no period ends."""

    type: PeriodType
    start_month: Annotated[int, msgspec.Meta(ge=1, le=12)] | None = None
    start_day: Annotated[int, msgspec.Meta(ge=1, le=31)] | None = None


class StatusValidity(_Struct):
    """A level a period end would take away stays valid this many months past the period end."""

    extend_months: Annotated[int, msgspec.Meta(ge=0, le=EXTEND_MONTHS_MAX)] = 0


class DowngradePolicy(_Struct):
    """Where a member who no longer qualifies goes: the highest level they qualify for
    (DROP_TO_QUALIFYING, the default), one level down (DROP_ONE), or nowhere (HOLD). `grace_days`
    delays the drop, and a member who qualifies again by then keeps the level; no drop goes below
    `min_level`."""

    mode: DowngradeMode = "DROP_TO_QUALIFYING"
    grace_days: Annotated[int, msgspec.Meta(ge=0, le=GRACE_DAYS_MAX)] = 0
    min_level: LevelKey | None = None


class LifecycleCounters(_Struct):
    """The counters a level is earned on in each period. At each period end they roll over: to 0
    (NONE), or to what exceeded the threshold of the level the member qualified for (EXCESS)."""

    qualifying: Annotated[list[CounterKey], msgspec.Meta(max_length=QUALIFYING_COUNTERS_MAX)] = msgspec.field(
        default_factory=list
    )
    rollover: Rollover = "NONE"


DEFAULT_POLICY = DowngradePolicy()


class Lifecycle(_Struct):
    retention: Retention | None = None
    qualification_period: QualificationPeriod | None = None
    status_validity: StatusValidity | None = None
    downgrade_policy: DowngradePolicy | None = None
    counters: LifecycleCounters | None = None

    @property
    def mode(self) -> str | None:
        """The retention mode, None for a tier no lifecycle re-evaluates."""
        return self.retention.mode if self.retention is not None else None

    @property
    def period_type(self) -> str:
        return self.qualification_period.type if self.qualification_period is not None else "NONE"

    @property
    def has_periods(self) -> bool:
        return self.period_type != "NONE"

    @property
    def policy(self) -> DowngradePolicy:
        return self.downgrade_policy if self.downgrade_policy is not None else DEFAULT_POLICY

    @property
    def extend_months(self) -> int:
        return self.status_validity.extend_months if self.status_validity is not None else 0

    @property
    def qualifying(self) -> list[str]:
        return list(self.counters.qualifying) if self.counters is not None else []

    @property
    def rollover(self) -> str:
        return self.counters.rollover if self.counters is not None else "NONE"

    @property
    def inactivity(self) -> timedelta | None:
        """How long an ACTIVITY_REFRESH level waits for an event before its review: `duration`
        plus the grace days. None for other tiers (or a duration the checks refused)."""
        if self.mode != "ACTIVITY_REFRESH" or self.retention is None or self.retention.duration is None:
            return None
        try:
            duration = parse_duration(self.retention.duration)
        except DurationError:
            return None
        return duration + timedelta(days=self.policy.grace_days) if duration > timedelta(0) else None


class LifecycleProblem(NamedTuple):
    path: tuple[str | int, ...]  # inside the lifecycle block: ("downgrade_policy", "min_level")
    code: str
    message: str


def lifecycle_problems(lifecycle: Lifecycle, level_keys: Iterable[str]) -> list[LifecycleProblem]:
    """What the fields of one tier's lifecycle say together that cannot hold; `level_keys` are the
    tier's levels (for `min_level`).

    >>> lifecycle_problems(Lifecycle(retention=Retention(mode="PERIOD_BASED")), ["gold"])[0].code
    'lifecycle_conflict'
    """
    problems: list[LifecycleProblem] = []
    _retention(lifecycle, problems)
    _period(lifecycle.qualification_period, problems)
    _policy(lifecycle, list(level_keys), problems)
    _counters(lifecycle, problems)
    return problems


def _retention(lifecycle: Lifecycle, problems: list[LifecycleProblem]) -> None:
    retention = lifecycle.retention
    if retention is None:
        return
    if retention.mode == "ACTIVITY_REFRESH":
        if retention.duration is None:
            problems.append(
                LifecycleProblem(
                    ("retention",),
                    "missing_field",
                    "ACTIVITY_REFRESH needs `duration`: how long a level waits for an event (such as '8760h')",
                )
            )
        else:
            _duration(retention.duration, problems)
        return
    if retention.duration is not None:
        problems.append(
            LifecycleProblem(
                ("retention", "duration"),
                "lifecycle_conflict",
                "`duration` is the inactivity of ACTIVITY_REFRESH; PERIOD_BASED levels are re-earned at each "
                "end of the qualification_period",
            )
        )
    if not lifecycle.has_periods:
        problems.append(
            LifecycleProblem(
                ("retention", "mode"),
                "lifecycle_conflict",
                "PERIOD_BASED is re-evaluated at each period end: give a qualification_period of type "
                "CALENDAR_YEAR or FIXED_YEAR",
            )
        )


def _duration(text: str, problems: list[LifecycleProblem]) -> None:
    try:
        duration = parse_duration(text)
    except DurationError as exc:
        problems.append(LifecycleProblem(("retention", "duration"), exc.code, exc.message))
        return
    if duration <= timedelta(0):
        problems.append(
            LifecycleProblem(("retention", "duration"), "invalid_duration", f"duration {text!r} must be positive")
        )


def _period(period: QualificationPeriod | None, problems: list[LifecycleProblem]) -> None:
    if period is None:
        return
    given = period.start_month is not None or period.start_day is not None
    if period.type != "FIXED_YEAR":
        if given:
            field = "start_month" if period.start_month is not None else "start_day"
            problems.append(
                LifecycleProblem(
                    ("qualification_period", field),
                    "lifecycle_conflict",
                    f"start_month and start_day go with FIXED_YEAR; a {period.type} period names no start",
                )
            )
        return
    if period.start_month is None or period.start_day is None:
        problems.append(
            LifecycleProblem(
                ("qualification_period",),
                "missing_field",
                "FIXED_YEAR needs start_month and start_day (the day each qualification year begins)",
            )
        )
        return
    problem = start_day_problem(period.start_month, period.start_day)
    if problem is not None:
        problems.append(LifecycleProblem(("qualification_period", "start_day"), "invalid_value", problem))


def start_day_problem(month: int, day: int) -> str | None:
    """None when (month, day) begins a period in every year. February 29 does not come every year,
    so a period cannot start on it."""
    if month == 2 and day == 29:
        return "February 29 is not in every year: start the period on February 28 or March 1"
    longest = calendar.monthrange(2023, month)[1]
    if day > longest:
        return f"{calendar.month_name[month]} has {longest} days"
    return None


def _policy(lifecycle: Lifecycle, levels: list[str], problems: list[LifecycleProblem]) -> None:
    policy, mode = lifecycle.downgrade_policy, lifecycle.mode
    if lifecycle.status_validity is not None and lifecycle.extend_months and mode != "PERIOD_BASED":
        problems.append(
            LifecycleProblem(
                ("status_validity", "extend_months"),
                "lifecycle_conflict",
                "status_validity extends a level past a period end: it needs retention PERIOD_BASED",
            )
        )
    if policy is None:
        return
    if mode is None:
        problems.append(
            LifecycleProblem(
                ("downgrade_policy",),
                "lifecycle_conflict",
                "a downgrade_policy applies when retention re-evaluates a level: give retention "
                "PERIOD_BASED or ACTIVITY_REFRESH",
            )
        )
    if policy.mode == "HOLD" and mode == "ACTIVITY_REFRESH":
        problems.append(
            LifecycleProblem(
                ("downgrade_policy", "mode"),
                "lifecycle_conflict",
                "HOLD keeps a level indefinitely, so an ACTIVITY_REFRESH level could never lapse: use "
                "DROP_TO_QUALIFYING or DROP_ONE",
            )
        )
    if policy.min_level is not None and policy.min_level not in levels:
        close = difflib.get_close_matches(policy.min_level, levels, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; levels: {', '.join(levels)}"
        problems.append(
            LifecycleProblem(
                ("downgrade_policy", "min_level"),
                "unknown_tier_level",
                f"min_level {policy.min_level!r} is not a level of this tier{hint}",
            )
        )


def _counters(lifecycle: Lifecycle, problems: list[LifecycleProblem]) -> None:
    counters = lifecycle.counters
    if counters is None:
        return
    seen: set[str] = set()
    for index, key in enumerate(counters.qualifying):
        if key in seen:
            problems.append(
                LifecycleProblem(("counters", "qualifying", index), "invalid_value", f"counter {key!r} is listed twice")
            )
        seen.add(key)
    if counters.qualifying and not lifecycle.has_periods:
        problems.append(
            LifecycleProblem(
                ("counters", "qualifying"),
                "lifecycle_conflict",
                "qualifying counters roll over at each period end: give a qualification_period of type "
                "CALENDAR_YEAR or FIXED_YEAR",
            )
        )
    if counters.rollover == "EXCESS" and not counters.qualifying:
        problems.append(
            LifecycleProblem(
                ("counters", "rollover"),
                "lifecycle_conflict",
                "rollover EXCESS carries what qualifying counters exceeded: list them in `qualifying`",
            )
        )
