"""Test cases that run a participant through time (A136): a starting state, then steps, each the
clock moving to a moment (the tier lifecycle's period ends, drops, expiries and inactivity due by
then applied, `engine.model.tier_lifecycle`) and, when the step has one, an event evaluated there.
Each step's expectations are checked after it (`engine.evaluator.cases.run_test_case`).

    tests:
      - name: gold is kept for a year, then dropped after grace
        participant: {tiers: {status: gold}}
        starts_at: 2026-02-01T00:00:00Z
        steps:
          - {at: 2026-06-01T00:00:00Z, event: {type: flight, miles: 60000}, expect: {tiers: {status: gold}}}
          - {at: 2027-01-01T00:00:00Z, expect: {tiers: {status: gold}, counters: {miles: 0}}}
          - {at: 2028-01-31T00:00:00Z, expect: {tiers: {status: silver}}}

A step may instead redeem, reverse a redemption or transfer to the case's recipient (A211,
`engine.evaluator.spending_steps`): the catalog's counts and the redemptions carry over the steps.

What carries from step to step: the participant's state after each event, review and spending
step, and each level's schedule; the program's state after each event; the recipient's state
after each transfer (events in steps are evaluated without a recipient); the case's group after
each event that names it with `group_id`, as the worker binds the group an event names (A264).
Budgets are as the case gives them at every step (budget periods are not simulated).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

import msgspec

from engine.evaluator.evaluate import evaluate_event
from engine.evaluator.spending_steps import Outcome, SpendingBook
from engine.model.bundle import Bundle, Expectation, JourneyStep, TestCase, TierType
from engine.model.calendar import zone
from engine.model.lifecycle import Lifecycle
from engine.model.qualification_periods import next_boundary
from engine.model.result import EvaluationResult
from engine.model.state import CounterState, EntityState, EvaluationInput, EventInput, GroupState, TierState
from engine.model.tier_lifecycle import Standing, refresh, review, roll_over_due, rolls_over, schedule

# expectations only an event can meet; a step without one checks tags, counters, attributes, tiers
# and balances (as the last event left them: lots are settled by events)
EVENT_ONLY = (
    "status",
    "error_code",
    "matched",
    "statuses",
    "credits",
    "debits",
    "lots",
    "expired",
    "matured",
    "recipient",
)


class Journey:
    """A participant on the way through a case's steps, with each level's schedule."""

    def __init__(
        self,
        program: Any,
        bundle: Bundle,
        case: TestCase,
        participant: EntityState,
        program_state,
        recipient: EntityState | None = None,
        group: GroupState | None = None,
    ) -> None:
        self.program, self.bundle, self.case = program, bundle, case
        self.participant, self.program_state, self.recipient = participant, program_state, recipient
        self.group = group  # the case's group, as the last event that named it left it
        self.book = SpendingBook(bundle)
        self.tiers = {tier.key: tier for tier in bundle.tiers}
        self.tz = _zone(bundle.program.timezone)
        start = case.starts_at or (case.steps or [])[0].at
        self.standings: dict[str, Standing] = {}
        # the next period end of each tier the member holds no level of, when it rolls counters over (A215)
        self.rollovers: dict[str, datetime] = {}
        for key, state in participant.tiers.items():
            self._schedule(key, state, start)
        for key in self.tiers.keys() - self.standings.keys():
            self._start_rollover(key, start, None)

    def _start_rollover(self, key: str, at: datetime, period_ends_at: datetime | None) -> None:
        tier = _running(self.tiers[key])
        period = tier.lifecycle.qualification_period
        if rolls_over(tier) and period is not None:
            self.rollovers[key] = period_ends_at or next_boundary(period, at, self.tz)

    def _schedule(self, key: str, state: TierState, at: datetime, expires_at: datetime | None = None) -> None:
        tier = self.tiers.get(key)
        if tier is not None:
            standing = Standing(level=state.level, rank=state.rank, expires_at=expires_at)
            previous = self.standings.get(key)
            if previous is not None:  # periods are the member's, not the level's (A132)
                standing = replace(standing, period_ends_at=previous.period_ends_at)
            self.standings[key] = schedule(_running(tier), standing, at, self.tz)
            self.rollovers.pop(key, None)  # the level's schedule rolls the counters over now

    def advance(self, at: datetime) -> None:
        """The clock moves to `at`: every level's due reviews applied in time order, then the
        rollovers of the tiers the member holds no level of (as the scheduler's jobs run)."""
        counters = {key: counter.value for key, counter in self.participant.counters.items()}
        tiers = dict(self.participant.tiers)
        for key, standing in list(self.standings.items()):
            outcome = review(_running(self.tiers[key]), standing, counters, at, self.tz)
            counters.update(outcome.counters)
            if outcome.standing is None:
                del self.standings[key]
                tiers.pop(key, None)
                self._start_rollover(key, at, outcome.period_ends_at)
            else:
                self.standings[key] = outcome.standing
                tiers[key] = TierState(level=outcome.standing.level, rank=outcome.standing.rank)
        self._roll_over(counters, at)
        rolled = {
            key: msgspec.structs.replace(self.participant.counters[key], value=value)
            if key in self.participant.counters
            else CounterState(value=value)
            for key, value in counters.items()
            if key not in self.participant.counters or self.participant.counters[key].value != value
        }
        self.participant = msgspec.structs.replace(
            self.participant, tiers=tiers, counters={**self.participant.counters, **rolled}
        )

    def _roll_over(self, counters: dict[str, Decimal], at: datetime) -> None:
        """The rollovers due by `at` of the tiers the member holds no level of (A215), into
        `counters`; a counter the member does not have is not created."""
        for key, period_ends_at in list(self.rollovers.items()):
            carried, next_end = roll_over_due(_running(self.tiers[key]), period_ends_at, counters, at, self.tz)
            counters.update({name: value for name, value in carried.items() if name in counters})
            if next_end is None:
                del self.rollovers[key]
            else:
                self.rollovers[key] = next_end

    def evaluate(self, step: JourneyStep, budgets, participant_budgets) -> EvaluationResult:
        received = step.received_at or step.at
        event = EventInput(event_data=step.event or {}, event_timestamp=step.at, received_at=received)
        named = self.group is not None and (step.event or {}).get("group_id") == self.group.id
        inputs = EvaluationInput(
            event=event,
            participant=self.participant,
            program_state=self.program_state,
            budgets=budgets,
            participant_budgets=participant_budgets,
            group=self.group if named else None,
        )
        result = evaluate_event(self.program, inputs, trace=True)
        if result.status != "COMPLETED":
            return result
        before = self.participant.tiers
        self.participant, self.program_state = result.participant_after(), result.program
        if named:
            self.group = result.group
        expiries = {
            change.key: change.expires_at
            for change in result.state_changes
            if change.state_type == "tier" and change.target.role == "participant"
        }
        for key, state in self.participant.tiers.items():
            if before.get(key) != state:
                self._schedule(key, state, received, expiries.get(key))  # a level set anew (A132)
            elif key in self.standings:
                self.standings[key] = refresh(_running(self.tiers[key]), self.standings[key], received)
        return result

    def spend(self, step: JourneyStep) -> Outcome:
        """The step's redeem, reverse or transfer at its moment (A211); a refusal changes nothing."""
        outcome = self.book.apply(step, self.participant, self.recipient, step.at)
        self.participant, self.recipient = outcome.participant, outcome.recipient
        return outcome


def event_only_fields(expect: Expectation) -> list[str]:
    """What a step without an event cannot meet: the expectations of an event."""
    return [field for field in EVENT_ONLY if getattr(expect, field, None) is not None]


def _running(tier: TierType) -> TierType:
    """An ARCHIVED tier's levels no longer move (A125)."""
    if tier.status == "ACTIVE":
        return tier
    return msgspec.structs.replace(tier, lifecycle=Lifecycle())


def _zone(name: str) -> tzinfo:
    try:
        return zone(name)
    except ValueError:  # the program's own check reports an unknown zone
        return zone("UTC")
