"""Run a bundle's test cases against the pure engine and explain every difference.

A test case gives an event, the participant's (and recipient's, program's) state before it, and
what it expects; only the expectations written are compared. The same input conversions serve the
playground: `state_from_input` and `program_state_from_input` turn the plain numbers and level keys
people write into engine state.

    >>> results = run_test_cases(load_bundle("rules_examples/coffee_stamps.yaml"))
    >>> [(r.name, r.passed) for r in results][:1]
    [('signup earns the welcome stamp', True)]
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from engine.evaluator.case_inputs import (
    balance_input,
    budgets_input,
    counter_input,
    decimal_input,
    group_state_from_input,
    holds_input,
    journey_group_from_input,
    tier_input,
)
from engine.evaluator.case_lots import TestInputError, compare_lots, lot_orders, lots_from_input
from engine.evaluator.evaluate import evaluate_event
from engine.evaluator.journeys import Journey, event_only_fields
from engine.evaluator.spending_steps import Outcome
from engine.model.bundle import (
    Bundle,
    Expectation,
    GroupExpectation,
    ProgramStateInput,
    StateInput,
    TestCase,
)
from engine.model.result import EvaluationResult, ResolvedAction, RuleStatus
from engine.model.state import (
    Balance,
    CounterState,
    EntityState,
    EvaluationInput,
    EventInput,
    GroupState,
    ProgramState,
)

DEFAULT_EVENT_TIMESTAMP = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class TestCaseResult(msgspec.Struct, kw_only=True):
    """The outcome of one test case: `diff` holds one readable line per difference."""

    __test__ = False

    name: str
    passed: bool
    diff: list[str] = msgspec.field(default_factory=list)
    result: EvaluationResult | None = None


def run_test_cases(loaded: Any) -> list[TestCaseResult]:
    """Run every test case of a loaded bundle (`engine.rules.loader.LoadedBundle`) that compiled.

    Returns an empty list when the bundle did not compile: its problems say why.
    """
    if loaded.program is None or loaded.bundle is None:
        return []
    return [run_test_case(loaded.program, loaded.bundle, case) for case in loaded.bundle.tests]


def run_test_case(program: Any, bundle: Bundle, case: TestCase) -> TestCaseResult:
    """Evaluate one test case (with a trace) and compare the result with its expectations; a case
    with `steps` runs the participant through them (A136)."""
    timestamp = case.event_timestamp or DEFAULT_EVENT_TIMESTAMP
    as_of = case.received_at or timestamp
    if case.steps is not None:
        as_of = case.starts_at or case.steps[0].at
    try:
        participant = state_from_input(case.participant, bundle, as_of=as_of)
        recipient = state_from_input(case.recipient, bundle, as_of=as_of) if case.recipient is not None else None
        program_state = program_state_from_input(case.program, bundle)
        group = None
        if case.steps is not None:
            group = journey_group_from_input(case, bundle, as_of=as_of)
        elif case.group is not None:
            group = group_state_from_input(case.group, case.event or {}, bundle, as_of=as_of)
        budgets = budgets_input(case.budgets_consumed)
        participant_budgets = budgets_input(case.participant_budgets_consumed)
    except TestInputError as exc:
        return TestCaseResult(name=case.name, passed=False, diff=[f"cannot build the state: {exc.message}"])
    if case.steps is not None:
        journey = Journey(program, bundle, case, participant, program_state, recipient, group)
        return _run_steps(journey, case, bundle, budgets, participant_budgets)
    event = EventInput(event_data=case.event or {}, event_timestamp=timestamp, received_at=as_of)
    result = evaluate_event(
        program,
        EvaluationInput(
            event=event,
            participant=participant,
            recipient=recipient,
            program_state=program_state,
            budgets=budgets,
            participant_budgets=participant_budgets,
            group=group,
        ),
        trace=True,
    )
    diff = compare(case.expect, result, lot_orders(bundle))
    if diff:
        diff.append("rules: " + ", ".join(_outcome_text(outcome) for outcome in result.rules))
    return TestCaseResult(name=case.name, passed=not diff, diff=diff, result=result)


def _run_steps(journey: Journey, case: TestCase, bundle: Bundle, budgets, participant_budgets) -> TestCaseResult:
    """Each step: the clock moves (lifecycle reviews), the step's event if any, its expectations."""
    diff: list[str] = []
    result = None
    for number, step in enumerate(case.steps or [], start=1):
        journey.advance(step.at)
        if step.event is not None:
            result = journey.evaluate(step, budgets, participant_budgets)
            lines = compare(step.expect, result, lot_orders(bundle))
        elif step.actions():
            lines = compare_spending(step.expect, journey.spend(step), step.actions()[0], lot_orders(bundle))
            _compare_group_between_events(lines, step.expect.group, journey.group, f"a {step.actions()[0]} step")
        else:
            lines = [f"{field}: a step without an event has no {field}" for field in event_only_fields(step.expect)]
            _compare_entity(lines, "", step.expect, journey.participant)
            _compare_group_between_events(lines, step.expect.group, journey.group, "a step without an event")
        moment = step.at.isoformat().replace("+00:00", "Z")
        diff += [f"step {number} ({moment}): {line}" for line in lines]
    return TestCaseResult(name=case.name, passed=not diff, diff=diff, result=result)


def state_from_input(state: StateInput, bundle: Bundle, *, as_of: datetime = DEFAULT_EVENT_TIMESTAMP) -> EntityState:
    """A participant as written in a test case or the playground, as engine state; `as_of` is
    when lots given without an earned time were earned.

    Example: `StateInput(counters={"stamps": 3}, tiers={"status": "gold"}, balances={"PTS": 120})`
    gives counters `{"stamps": CounterState(value=Decimal("3"))}`, tier `gold` with its rank, and an
    AVAILABLE balance of 120 PTS.
    """
    balances = {symbol: balance_input(value, symbol) for symbol, value in state.balances.items()}
    holds = holds_input(state.holds)
    lots = lots_from_input(state, bundle, as_of, balances, holds)
    return EntityState(
        external_id=state.external_id,
        status=state.status,
        tags=sorted({tag.lower() for tag in state.tags}),
        counters={key: counter_input(key, value, bundle) for key, value in state.counters.items()},
        attributes=dict(state.attributes),
        tiers={tier: tier_input(bundle, tier, level) for tier, level in state.tiers.items()},
        balances=balances,
        holds=holds,
        lots=lots,
    )


def program_state_from_input(state: ProgramStateInput, bundle: Bundle) -> ProgramState:
    """The program's state as written in a test case (wallet amounts are AVAILABLE balances)."""
    del bundle  # program state names no tiers; the signature matches state_from_input
    return ProgramState(
        tags=sorted({tag.lower() for tag in state.tags}),
        counters={
            key: CounterState(value=decimal_input(value, f"program counter '{key}'"))
            for key, value in state.counters.items()
        },
        attributes=dict(state.attributes),
        wallet={
            symbol: Balance(available=decimal_input(value, f"wallet {symbol}"))
            for symbol, value in state.wallet.items()
        },
    )


def compare(expect: Expectation, result: EvaluationResult, orders: dict[str, str] | None = None) -> list[str]:
    """One line per expectation the result does not meet; empty when all are met. `orders` gives
    the spending order of each LOT asset, in which expected lots are listed."""
    diff: list[str] = []
    _check(diff, "status", expect.status, result.status)
    _check(diff, "error_code", expect.error_code, result.error_code)
    if expect.matched is not None:
        matched = [outcome.rule for outcome in result.rules if outcome.status == RuleStatus.MATCHED]
        _check(diff, "matched", expect.matched, matched)
    if expect.statuses is not None:
        actual = {outcome.rule: str(outcome.status) for outcome in result.rules}
        for rule, status in expect.statuses.items():
            _check(diff, f"statuses.{rule}", status, actual.get(rule, "NOT_EVALUATED"))
    diff += _unexpected_errors(expect, result)
    _compare_amounts(diff, "credits", expect.credits, _sums(result.actions, "CREDIT"))
    _compare_amounts(diff, "debits", expect.debits, _sums(result.actions, "DEBIT"))
    _compare_entity(diff, "", expect, result.participant_after())
    compare_lots(diff, "", expect, result.participant_after(), result.settled, "participant", orders or {})
    if expect.recipient is not None:
        if result.recipient is None:
            diff.append("recipient: expected a recipient, the event had none")
        else:
            recipient_actions = [a for a in result.actions if a.target.role == "recipient"]
            _compare_amounts(diff, "recipient.credits", expect.recipient.credits, _sums(recipient_actions, "CREDIT"))
            _compare_amounts(diff, "recipient.debits", expect.recipient.debits, _sums(recipient_actions, "DEBIT"))
            _compare_entity(diff, "recipient.", expect.recipient, result.recipient)
            compare_lots(
                diff, "recipient.", expect.recipient, result.recipient, result.settled, "recipient", orders or {}
            )
    if expect.group is not None:
        _compare_group(diff, expect.group, result, orders or {})
    return diff


def _compare_group(diff: list[str], expect: GroupExpectation, result: EvaluationResult, orders: dict[str, str]) -> None:
    if result.group is None:
        diff.append("group: expected a group, the case gives none")
        return
    group_actions = [a for a in result.actions if a.target.type == "GROUP" and a.target.id == result.group.id]
    _compare_amounts(diff, "group.credits", expect.credits, _sums(group_actions, "CREDIT"))
    _compare_amounts(diff, "group.debits", expect.debits, _sums(group_actions, "DEBIT"))
    _compare_entity(diff, "group.", expect, result.group)
    compare_lots(diff, "group.", expect, result.group, result.settled, "group", orders)


def _compare_group_between_events(
    diff: list[str], expect: GroupExpectation | None, group: GroupState | None, step: str
) -> None:
    """A journey's group as the last event that named it left it (lots settle at events)."""
    if expect is None:
        return
    if group is None:
        diff.append("group: expected a group, the case gives none")
        return
    diff += [f"group.{name}: {step} has no {name}" for name in GROUP_EVENT_ONLY if getattr(expect, name) is not None]
    _compare_entity(diff, "group.", expect, group)


GROUP_EVENT_ONLY = ("credits", "debits", "lots", "expired", "matured")


def compare_spending(expect: Expectation, outcome: Outcome, kind: str, orders: dict[str, str]) -> list[str]:
    """A spending step's expectations: its status and error code (a refusal not expected is a
    difference), then the states after it, as for an event."""
    diff = [f"{name}: a {kind} step has no {name}" for name in SPENDING_UNMET if getattr(expect, name) is not None]
    if outcome.error_code is not None and expect.status != "FAILED" and expect.error_code is None:
        diff.append(f"{kind} refused ({outcome.error_code}): {outcome.error}")
    _check(diff, "status", expect.status, outcome.status)
    _check(diff, "error_code", expect.error_code, outcome.error_code)
    _compare_entity(diff, "", expect, outcome.participant)
    compare_lots(diff, "", expect, outcome.participant, outcome.settled, "participant", orders)
    if expect.recipient is not None:
        if outcome.recipient is None:
            diff.append("recipient: expected a recipient, the case gives none")
        else:
            diff += [
                f"recipient.{name}: a {kind} step has no {name}"
                for name in ("credits", "debits")
                if getattr(expect.recipient, name) is not None
            ]
            _compare_entity(diff, "recipient.", expect.recipient, outcome.recipient)
            compare_lots(diff, "recipient.", expect.recipient, outcome.recipient, outcome.settled, "recipient", orders)
    return diff


# what a spending step cannot meet: the expectations of rules
SPENDING_UNMET = ("matched", "statuses", "credits", "debits")
ERRORED = (RuleStatus.SKIPPED_ERROR, RuleStatus.SKIPPED_TIMEOUT)


def _unexpected_errors(expect: Expectation, result: EvaluationResult) -> list[str]:
    """A rule that errored fails the case unless `expect.statuses` names that status for it: in
    production the event would complete quietly with fewer points (D9), so a test must say so."""
    expected = expect.statuses or {}
    return [
        f"rule {outcome.rule} errored ({outcome.status}): {outcome.error}; if that is meant, "
        f"expect it with `statuses: {{{outcome.rule}: {outcome.status}}}`"
        for outcome in result.rules
        if outcome.status in ERRORED and expected.get(outcome.rule) != str(outcome.status)
    ]


def _compare_entity(
    diff: list[str], prefix: str, expect: Expectation | GroupExpectation, entity: EntityState | GroupState
) -> None:
    if expect.tags is not None:
        wanted, actual = sorted({t.lower() for t in expect.tags}), sorted(entity.tags)
        if wanted != actual:
            missing, extra = sorted(set(wanted) - set(actual)), sorted(set(actual) - set(wanted))
            details = ([f"missing: {', '.join(missing)}"] if missing else []) + (
                [f"unexpected: {', '.join(extra)}"] if extra else []
            )
            diff.append(f"{prefix}tags: expected {_show(wanted)}, got {_show(actual)} ({'; '.join(details)})")
    for key, value in (expect.counters or {}).items():
        counter = entity.counters.get(key)
        _check_amount(diff, f"{prefix}counters.{key}", value, counter.value if counter else None)
    for key, value in (expect.attributes or {}).items():
        _check(diff, f"{prefix}attributes.{key}", value, entity.attributes.get(key))
    for tier, level in (getattr(expect, "tiers", None) or {}).items():
        state = getattr(entity, "tiers", {}).get(tier)
        if level is None and state is not None:
            diff.append(f"{prefix}tiers.{tier}: expected no level, got {_show(state.level)}")
        _check(diff, f"{prefix}tiers.{tier}", level, state.level if state else None)
    for symbol, expected_balance in (expect.balances or {}).items():
        balance = (entity.balances or {}).get(symbol, Balance())
        buckets = expected_balance if isinstance(expected_balance, dict) else {"available": expected_balance}
        for bucket, amount in buckets.items():
            _check_amount(diff, f"{prefix}balances.{symbol}.{bucket}", amount, getattr(balance, bucket, None))


def _check(diff: list[str], label: str, expected: Any, actual: Any) -> None:
    if expected is not None and expected != actual:
        diff.append(f"{label}: expected {_show(expected)}, got {_show(actual)}")


def _check_amount(diff: list[str], label: str, expected: Any, actual: Decimal | None) -> None:
    try:
        wanted = Decimal(str(expected))
    except InvalidOperation:
        diff.append(f"{label}: the expected value {expected!r} is not a number")
        return
    if actual is None or wanted != actual:
        diff.append(f"{label}: expected {expected}, got {_show(actual) if actual is not None else 'nothing'}")


def _compare_amounts(diff: list[str], label: str, expected: dict[str, Any] | None, actual: dict[str, Decimal]) -> None:
    if expected is None:
        return
    for symbol in sorted(set(expected) | set(actual)):
        if symbol not in expected:
            diff.append(f"{label}.{symbol}: expected nothing, got {actual[symbol]}")
        else:
            _check_amount(diff, f"{label}.{symbol}", expected[symbol], actual.get(symbol))


def _sums(actions: list[ResolvedAction], kind: str) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for action in actions:
        if action.type == kind and action.asset and action.amount is not None:
            sums[action.asset] += action.amount
    return dict(sums)


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(item) for item in value) + "]"
    return "nothing" if value is None else str(value)


def _outcome_text(outcome: Any) -> str:
    text = f"{outcome.rule} {outcome.status}"
    if outcome.error:
        text += f" ({outcome.error_code}: {outcome.error})"
    return text
