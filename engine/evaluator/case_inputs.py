"""Turning what a test case or the playground writes (plain numbers, level keys, counters with
their reset schedule) into engine state, with a `TestInputError` naming what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.evaluator.case_lots import TestInputError, lots_from_input
from engine.model.bundle import Bundle, CounterInput, GroupInput, TestCase
from engine.model.calendar import parse_period, period_problem, qualified
from engine.model.durations import DurationError, parse_duration
from engine.model.state import Balance, BudgetState, CounterState, GroupState, TierState

_BUCKETS = ("available", "held", "deferred")


def group_state_from_input(
    state: GroupInput, event_data: dict[str, Any], bundle: Bundle, *, as_of: datetime
) -> GroupState:
    """The group a case's event names, as engine state: its id is the event's `group_id` unless
    given (the two must agree, as storage binds only the group the event names), and its balances,
    holds and lots are known, so the evaluation checks and moves them (A255, A263); `as_of` is
    when lots given without an earned time were earned."""
    named = event_data.get("group_id")
    group_id = state.id if state.id is not None else named
    if not isinstance(group_id, str) or not group_id:
        raise TestInputError("group: give its id, or name it with `group_id` in the event")
    if named is not None and named != group_id:
        raise TestInputError(f"group: id {group_id!r} is not the event's group_id {named!r}")
    balances = {symbol: balance_input(value, symbol) for symbol, value in state.balances.items()}
    holds = holds_input(state.holds)
    try:
        lots = lots_from_input(state, bundle, as_of, balances, holds)
    except TestInputError as exc:
        raise TestInputError(f"group: {exc.message}") from None
    return GroupState(
        id=group_id,
        name=state.name,
        status=state.status,
        tags=sorted({tag.lower() for tag in state.tags}),
        counters={key: counter_input(key, value, bundle) for key, value in state.counters.items()},
        attributes=dict(state.attributes),
        tiers={key: tier_input(bundle, key, level) for key, level in state.tiers.items()},
        balances=balances,
        holds=holds,
        lots=lots,
    )


def holds_input(holds: dict[str, dict[str, Any]]) -> dict[str, dict[str, Decimal]]:
    """Amounts held under a reference, by asset symbol, as written."""
    return {
        symbol: {ref: decimal_input(amount, f"hold '{ref}' of {symbol}") for ref, amount in refs.items()}
        for symbol, refs in holds.items()
    }


def journey_group_from_input(case: TestCase, bundle: Bundle, *, as_of: datetime) -> GroupState | None:
    """The group of a case with `steps` (A264): its id is the `group_id` its steps' events name
    unless given, and every step's event that names a group names that one."""
    if case.group is None:
        return None
    named = [step.event["group_id"] for step in case.steps or [] if step.event and "group_id" in step.event]
    group = group_state_from_input(case.group, {"group_id": named[0]} if named else {}, bundle, as_of=as_of)
    for other in named:
        if other != group.id:
            raise TestInputError(f"group: a step's event names group_id {other!r}, the case's group is {group.id!r}")
    return group


def decimal_input(value: Any, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise TestInputError(f"{what}: {value!r} is not a number") from None
    if not number.is_finite():
        raise TestInputError(f"{what}: {value!r} is not a finite number")
    return number


def counter_input(key: str, value: Any, bundle: Bundle) -> CounterState:
    """A counter as written: a number, or `{value, reset_after, last_reset_at}` (a calendar period
    in the program's time zone unless it names one)."""
    if not isinstance(value, CounterInput):
        return CounterState(value=decimal_input(value, f"counter '{key}'"))
    reset_after = value.reset_after
    if reset_after is not None:
        problem = (
            period_problem(reset_after) if parse_period(reset_after) is not None else _duration_problem(reset_after)
        )
        if problem is not None:
            raise TestInputError(f"counter '{key}': reset_after: {problem}")
        reset_after = qualified(reset_after, bundle.program.timezone)
    last = value.last_reset_at
    return CounterState(
        value=decimal_input(value.value, f"counter '{key}'"),
        reset_after=reset_after,
        last_reset_at=None if last is None else (last if last.tzinfo is not None else last.replace(tzinfo=UTC)),
    )


def _duration_problem(text: str) -> str | None:
    try:
        parse_duration(text)
    except DurationError as exc:
        return exc.message
    return None


def balance_input(value: Any, symbol: str) -> Balance:
    if not isinstance(value, dict):
        return Balance(available=decimal_input(value, f"balance {symbol}"))
    unknown = sorted(set(value) - set(_BUCKETS))
    if unknown:
        raise TestInputError(f"balance {symbol}: unknown bucket {unknown[0]!r}; buckets are {', '.join(_BUCKETS)}")
    return Balance(**{bucket: decimal_input(amount, f"balance {symbol}.{bucket}") for bucket, amount in value.items()})


def tier_input(bundle: Bundle, tier_key: str, level_key: str) -> TierState:
    for tier in bundle.tiers:
        if tier.key == tier_key:
            for level in tier.levels:
                if level.key == level_key:
                    return TierState(level=level.key, rank=level.rank)
            raise TestInputError(f"tier '{tier_key}' has no level '{level_key}'")
    raise TestInputError(f"unknown tier '{tier_key}'")


def budgets_input(consumed: dict[str, dict[str, Any]]) -> dict[tuple[str, str], BudgetState]:
    return {
        (rule, symbol): BudgetState(consumed=decimal_input(amount, f"budgets_consumed {rule}.{symbol}"))
        for rule, per_asset in consumed.items()
        for symbol, amount in per_asset.items()
    }
