"""The rules of a tier lifecycle over time, pure (A127-A131): what a period end, a pending drop, an
inactive level and an `expires_at` do to a member's level, and what the qualifying counters roll
over to. Nothing here knows who holds the level (a participant today, a group later) or where it
is stored; the scheduler's job (`engine.store.tier_sweeps`) reads a `Standing`, calls `review`
and writes back what it returns.

    standing = schedule(tier, Standing(level="gold", rank=2), now, tz)     # when it is next looked at
    outcome = review(tier, standing, counters, now, tz)                     # everything due by `now`
    outcome.standing, outcome.changes, outcome.counters                     # the level, why it moved, rollover
    rolled, next_end = roll_over_due(tier, period_ends_at, counters, now, tz)  # a member without a level

A review applies what is due in time order, each at its own instant: an expiry, then period ends
and the drops they decided, then an inactive level's lapse. A late sweep thus gives the result an
on-time one would have.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from engine.model.bundle import Qualification, TierLevel, TierType
from engine.model.lifecycle import Lifecycle
from engine.model.qualification_periods import add_days, add_months, next_boundary

ZERO = Decimal(0)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "==": operator.eq,
    "<=": operator.le,
    "<": operator.lt,
}


@dataclass(frozen=True)
class Standing:
    """A held level and what its lifecycle has scheduled: `expires_at` (set by the API), the next
    period end to evaluate, and `review_at`, when a pending drop takes effect (to `downgrade_to`,
    None for no level) or an ACTIVITY_REFRESH level lapses (`downgrade_to` unset then)."""

    level: str
    rank: int
    expires_at: datetime | None = None
    period_ends_at: datetime | None = None
    review_at: datetime | None = None
    downgrade_to: str | None = None
    pending_drop: bool = False  # review_at is a drop a period end decided (else an inactivity wait)

    @property
    def due_at(self) -> datetime | None:
        """The earliest instant something is scheduled for this level."""
        moments = [m for m in (self.expires_at, self.period_ends_at, self.review_at) if m is not None]
        return min(moments) if moments else None


@dataclass(frozen=True)
class TierChange:
    """One change of level: `new_level` None is no level. `reason` is one of PERIOD_END (a period
    end, or the drop it decided), INACTIVITY, EXPIRY."""

    old_level: str
    old_rank: int
    new_level: str | None
    new_rank: int | None
    reason: str
    at: datetime


@dataclass(frozen=True)
class Outcome:
    standing: Standing | None  # None: the member holds no level of the tier any more
    changes: list[TierChange] = field(default_factory=list)
    counters: dict[str, Decimal] = field(default_factory=dict)  # qualifying counters rolled over
    # a removed level's next period end its counters have not rolled over at yet (A215)
    period_ends_at: datetime | None = None


# --- qualification -------------------------------------------------------------------------------


def qualifies(qualification: Qualification | None, counters: Mapping[str, Decimal]) -> bool:
    """Whether counter values meet a level's criteria; a level without criteria is never earned
    from counters (it is set by a rule or the API)."""
    if qualification is None or not qualification.criteria:
        return False
    results = (
        _COMPARE[c.operator](counters.get(c.counter, ZERO), Decimal(repr(c.threshold))) for c in qualification.criteria
    )
    return all(results) if qualification.mode == "ALL" else any(results)


def qualifying_level(tier: TierType, counters: Mapping[str, Decimal]) -> TierLevel | None:
    """The highest level whose qualification the counters meet, None when none."""
    met = [level for level in tier.levels if qualifies(level.qualification, counters)]
    return max(met, key=lambda level: level.rank) if met else None


def _level(tier: TierType, key: str | None) -> TierLevel | None:
    return next((level for level in tier.levels if level.key == key), None)


def _below(tier: TierType, rank: int) -> TierLevel | None:
    """The level just below `rank`, None below the lowest."""
    lower = [level for level in tier.levels if level.rank < rank]
    return max(lower, key=lambda level: level.rank) if lower else None


def drop_target(tier: TierType, standing: Standing, counters: Mapping[str, Decimal]) -> TierLevel | None:
    """Where the downgrade policy sends a member who no longer qualifies for their level (A128):
    DROP_TO_QUALIFYING to the highest level they qualify for below it, DROP_ONE one level down,
    HOLD nowhere (their level); never below `min_level`, and never up."""
    policy = tier.lifecycle.policy
    current = _level(tier, standing.level)
    if policy.mode == "HOLD":
        return current
    if policy.mode == "DROP_ONE":
        target = _below(tier, standing.rank)
    else:
        met = [
            level for level in tier.levels if level.rank < standing.rank and qualifies(level.qualification, counters)
        ]
        target = max(met, key=lambda level: level.rank) if met else None
    floor = _level(tier, policy.min_level)
    if floor is not None and (target is None or target.rank < floor.rank):
        target = floor if floor.rank <= standing.rank else current
    return target


# --- scheduling ----------------------------------------------------------------------------------


def schedule(tier: TierType, standing: Standing, at: datetime, tz: tzinfo) -> Standing:
    """A level set at `at` (by a rule, the API or qualification): its next period end (kept when
    one is scheduled already), and for ACTIVITY_REFRESH the end of its wait; a pending drop is
    cancelled, the level having been set anew."""
    lifecycle = tier.lifecycle
    period_ends_at = standing.period_ends_at
    if lifecycle.has_periods and lifecycle.qualification_period is not None and period_ends_at is None:
        period_ends_at = next_boundary(lifecycle.qualification_period, at, tz)
    if not lifecycle.has_periods:
        period_ends_at = None
    inactivity = lifecycle.inactivity
    return replace(
        standing,
        period_ends_at=period_ends_at,
        review_at=at + inactivity if inactivity is not None else None,
        downgrade_to=None,
        pending_drop=False,
    )


def refresh(tier: TierType, standing: Standing, at: datetime) -> Standing:
    """An event of the member processed at `at`: an ACTIVITY_REFRESH level's wait starts again."""
    inactivity = tier.lifecycle.inactivity
    if inactivity is None or standing.pending_drop:
        return standing
    return replace(standing, review_at=at + inactivity)


# --- review --------------------------------------------------------------------------------------


def review(tier: TierType, standing: Standing, counters: Mapping[str, Decimal], at: datetime, tz: tzinfo) -> Outcome:
    """Everything due for `standing` by `at`, applied in time order at its own instant.
    `counters` are the member's effective counter values; the outcome's `counters` are the
    qualifying counters the period ends rolled over (only those), and for a level it removes its
    `period_ends_at`, the period end the member's counters roll over at next without it."""
    values = dict(counters)
    rolled: dict[str, Decimal] = {}
    changes: list[TierChange] = []
    scheduled = current_schedule(tier, standing, at, tz)
    current: Standing | None = scheduled
    next_end = scheduled.period_ends_at
    while current is not None and current.due_at is not None and current.due_at <= at:
        moment = current.due_at
        next_end = current.period_ends_at
        if current.expires_at is not None and current.expires_at <= moment:
            changes.append(TierChange(current.level, current.rank, None, None, "EXPIRY", moment))
            current = None
        elif current.period_ends_at is not None and current.period_ends_at <= moment:
            assert tier.lifecycle.qualification_period is not None  # `current_schedule` keeps none without
            next_end = next_boundary(tier.lifecycle.qualification_period, moment, tz)
            current, change = _period_end(tier, current, values, tz)
            rollover = roll_over(tier, values)
            values.update(rollover)
            rolled.update(rollover)
            changes.extend([change] if change is not None else [])
        else:
            current, change = _review_due(tier, current, values, moment)
            changes.extend([change] if change is not None else [])
    return Outcome(current, changes, rolled, next_end if current is None else None)


def current_schedule(tier: TierType, standing: Standing, at: datetime, tz: tzinfo) -> Standing:
    """A standing's schedule brought to the tier's lifecycle as it is at `at` (A132): what a
    changed lifecycle (or an archived tier, which runs none) no longer runs is dropped (period ends
    without periods, inactivity waits without ACTIVITY_REFRESH, pending drops without
    PERIOD_BASED), and what it runs that is not scheduled yet starts at `at` (the next period end,
    an inactivity wait). A period end already scheduled stays; the ones after it follow the
    lifecycle as it is then."""
    lifecycle = tier.lifecycle
    if not lifecycle.has_periods and standing.period_ends_at is not None:
        standing = replace(standing, period_ends_at=None)
    if standing.pending_drop and lifecycle.mode != "PERIOD_BASED":
        standing = replace(standing, review_at=None, downgrade_to=None, pending_drop=False)
    inactivity = lifecycle.inactivity
    if not standing.pending_drop and standing.review_at is not None and inactivity is None:
        standing = replace(standing, review_at=None)
    if lifecycle.qualification_period is not None and lifecycle.has_periods and standing.period_ends_at is None:
        standing = replace(standing, period_ends_at=next_boundary(lifecycle.qualification_period, at, tz))
    if inactivity is not None and not standing.pending_drop and standing.review_at is None:
        standing = replace(standing, review_at=at + inactivity)
    return standing


def _change(standing: Standing, target: TierLevel | None, reason: str, at: datetime) -> TierChange:
    return TierChange(
        standing.level,
        standing.rank,
        target.key if target is not None else None,
        target.rank if target is not None else None,
        reason,
        at,
    )


def _moved(standing: Standing, target: TierLevel | None, tier: TierType, at: datetime, tz: tzinfo) -> Standing | None:
    if target is None:
        return None
    moved = replace(standing, level=target.key, rank=target.rank, expires_at=None)
    return schedule(tier, moved, at, tz)


def _period_end(
    tier: TierType, standing: Standing, counters: Mapping[str, Decimal], tz: tzinfo
) -> tuple[Standing | None, TierChange | None]:
    """A period end (A127): a PERIOD_BASED level is earned again, moved up to what the period's
    counters qualify for, or dropped by the policy, at once or after status validity and grace
    (a pending drop already running is left to run)."""
    lifecycle: Lifecycle = tier.lifecycle
    end = standing.period_ends_at
    assert end is not None and lifecycle.qualification_period is not None
    following = next_boundary(lifecycle.qualification_period, end, tz)
    advanced = replace(standing, period_ends_at=following)
    if lifecycle.mode != "PERIOD_BASED" or standing.pending_drop:
        return advanced, None
    earned = qualifying_level(tier, counters)
    if earned is not None and earned.rank >= standing.rank:
        if earned.rank == standing.rank:
            return advanced, None
        return _moved(advanced, earned, tier, end, tz), _change(standing, earned, "PERIOD_END", end)
    target = drop_target(tier, standing, counters)
    if target is not None and target.key == standing.level:
        return advanced, None  # HOLD, or already at the floor
    effective = add_days(add_months(end, lifecycle.extend_months, tz), lifecycle.policy.grace_days, tz)
    if effective <= end:
        return _moved(advanced, target, tier, end, tz), _change(standing, target, "PERIOD_END", end)
    pending = replace(advanced, review_at=effective, downgrade_to=target.key if target else None, pending_drop=True)
    return pending, None


def _review_due(
    tier: TierType, standing: Standing, counters: Mapping[str, Decimal], at: datetime
) -> tuple[Standing | None, TierChange | None]:
    """A pending drop taking effect (A128): a member who qualifies for their level again keeps it,
    and one who qualifies for more than the drop's target lands there; or an ACTIVITY_REFRESH
    level's wait ending (A129): it drops by the policy, and the lower level waits again."""
    if standing.pending_drop:
        earned = qualifying_level(tier, counters)
        kept = replace(standing, review_at=None, downgrade_to=None, pending_drop=False)
        if earned is not None and earned.rank >= standing.rank:
            return kept, None
        target = _level(tier, standing.downgrade_to)
        if earned is not None and (target is None or earned.rank > target.rank):
            target = earned
        reason = "PERIOD_END"
    else:
        kept = replace(standing, review_at=None)
        target = drop_target(tier, standing, counters)
        reason = "INACTIVITY"
    if target is not None and target.key == standing.level:
        return kept, None
    if target is None:
        return None, _change(standing, None, reason, at)
    inactivity = tier.lifecycle.inactivity
    moved = replace(
        kept,
        level=target.key,
        rank=target.rank,
        expires_at=None,
        review_at=at + inactivity if inactivity is not None else None,
    )
    return moved, _change(standing, target, reason, at)


# --- rollover ------------------------------------------------------------------------------------


def roll_over(tier: TierType, counters: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """The qualifying counters at a period end (A130): 0 under NONE; under EXCESS what each
    exceeded the threshold of the level the period's counters qualify for (0 for a counter that
    level has no `>=`/`>` criterion on, and for every counter when no level qualifies)."""
    lifecycle = tier.lifecycle
    if not lifecycle.qualifying:
        return {}
    earned = qualifying_level(tier, counters) if lifecycle.rollover == "EXCESS" else None
    thresholds: dict[str, Decimal] = {}
    if earned is not None and earned.qualification is not None:
        for criterion in earned.qualification.criteria:
            if criterion.operator in (">=", ">"):
                thresholds[criterion.counter] = Decimal(repr(criterion.threshold))
    rolled = {}
    for key in lifecycle.qualifying:
        threshold = thresholds.get(key)
        value = counters.get(key, ZERO)
        rolled[key] = max(value - threshold, ZERO) if threshold is not None else ZERO
    return rolled


def rolls_over(spec: TierType) -> bool:
    """Whether the tier rolls qualifying counters over at period ends: ACTIVE, with periods and
    qualifying counters (an ARCHIVED tier runs no lifecycle, A125)."""
    lifecycle = spec.lifecycle
    return spec.status == "ACTIVE" and lifecycle.qualification_period is not None and bool(lifecycle.qualifying)


def roll_over_due(
    tier: TierType, period_ends_at: datetime, counters: Mapping[str, Decimal], at: datetime, tz: tzinfo
) -> tuple[dict[str, Decimal], datetime | None]:
    """The rollover of a member who holds no level (A215): each period end from `period_ends_at`
    to `at` rolls the qualifying counters over as a level's review would, in turn. Returns the
    counters rolled (only those) and the next period end to roll over at, None when the tier no
    longer rolls counters over (no periods, no qualifying counters)."""
    lifecycle = tier.lifecycle
    if not lifecycle.has_periods or lifecycle.qualification_period is None or not lifecycle.qualifying:
        return {}, None
    values = dict(counters)
    rolled: dict[str, Decimal] = {}
    end = period_ends_at
    while end <= at:
        rollover = roll_over(tier, values)
        values.update(rollover)
        rolled.update(rollover)
        end = next_boundary(lifecycle.qualification_period, end, tz)
    return rolled, end
