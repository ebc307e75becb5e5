"""Evaluating one event against a compiled program: pure, no I/O, no randomness, and no clock but
the time limit of the evaluation (A75).

    >>> result = evaluate_event(program, EvaluationInput(event=event, participant=participant))
    >>> result.status, [(r.rule, r.status) for r in result.rules]
    ('COMPLETED', [('welcome', 'MATCHED'), ('purchase_points', 'NOT_MATCHED')])

Rules run in (order, name) order (D14). For each ACTIVE rule, in this order of precedence:
STOPPED when an earlier matched rule had `stop_after_match`; OUTSIDE_TIME_WINDOW when the event's
`received_at` is outside [active_from, active_to) (D16); NOT_MATCHED when the rule index shows its
`event.*` guard cannot hold, or its condition is false; SKIPPED_ERROR / SKIPPED_TIMEOUT when the
condition raised (D9, D10) or returned a non-bool; otherwise MATCHED, and its actions are applied
to the working state so later rules see them. A matched rule whose credit a budget suppressed is
BUDGET_EXCEEDED (its other actions still ran). When an action fails the event is FAILED: the rule
list ends at the failing rule (which carries the error), nothing else is reported, and the state
after is the state before. After the rules, tiers auto-qualify (A22).

Every expression of one event shares one deadline, `EVALUATION_TIME_MAX_S` after the evaluation
starts (A75): an expression that runs past it stops with `DSL_LIMIT_TIME`, and a rule whose turn
comes after it is SKIPPED_TIMEOUT unevaluated, so a program of many slow rules holds its worker (and
the storage lock around it) no longer than one slow rule would.

Encoding the result with `msgspec.json.encode` gives the same bytes for the same inputs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal, DivisionByZero, InvalidOperation, Overflow, localcontext
from typing import Any

from msgspec.structs import replace

from dsl import DEADLINE
from dsl.errors import DslError, DslLimitError
from dsl.values import Optional, UInt, type_name
from engine.errors import EngineError
from engine.evaluator.actions import ActionFailure, apply_actions
from engine.evaluator.bindings import event_data_binding
from engine.evaluator.working import WorkingState
from engine.limits import EVALUATION_TIME_MAX_S, check_event_data
from engine.model.bundle import Bundle
from engine.model.result import EvaluationResult, ResolvedAction, RuleOutcome, RuleStatus, TraceStep
from engine.model.state import EvaluationInput
from engine.model.tier_lifecycle import qualifies
from engine.model.vocabulary import ActionStatus, EventStatus
from engine.rules.program import CompiledProgram, CompiledRule, compile_program

# Exact arithmetic for every amount an event touches: 24 integer digits and 18 places fit with room
# to spare, so sums of balances are never rounded by the default 28-digit context.
_DECIMALS = Context(prec=80, traps=[InvalidOperation, DivisionByZero, Overflow])

TRACE_ITEMS_MAX = 10_000  # list and map elements the trace of one condition keeps, all steps together
TRACE_TEXT_MAX = 200  # characters (or bytes) of one text a trace keeps (what the playground shows)
_OUT_OF_TIME = (
    f"not evaluated: the event's rules ran out of time ({EVALUATION_TIME_MAX_S * 1000:.0f} ms at most for all of them)"
)


def evaluate_event(
    program: CompiledProgram | Bundle, inputs: EvaluationInput, *, trace: bool = False
) -> EvaluationResult:
    """Evaluate `inputs.event` for its participant (and recipient, D17) against every active rule.

    With `trace=True` every rule's condition is evaluated (the index is not used) and each
    outcome carries the value of every sub-expression."""
    if isinstance(program, Bundle):
        program = compile_program(program)
    event, participant, recipient = inputs.event, inputs.participant, inputs.recipient
    now, received_at = _aware(event.event_timestamp), _aware(event.received_at)
    try:
        check_event_data(event.event_data)
        event_value = event_data_binding(event.event_data)
        working = WorkingState.start(
            participant,
            recipient,
            inputs.program_state,
            inputs.budgets,
            now,
            inputs.participant_budgets,
            as_of=received_at,
            lot_orders=lot_orders(program),
            group=inputs.group,
        )
    except EngineError as exc:
        return _failed(
            received_at, [], exc.code, exc.message, participant, recipient, inputs.program_state, inputs.group
        )
    bindings: dict[Any, Any] = working.bindings(event_value)
    bindings[DEADLINE] = time.monotonic() + EVALUATION_TIME_MAX_S
    with localcontext(_DECIMALS):
        return _run_rules(
            program,
            working,
            bindings,
            received_at,
            trace,
            (participant, recipient, inputs.program_state, inputs.group),
        )


def _run_rules(program, working, bindings, received_at, trace, given) -> EvaluationResult:
    """The rule loop; `given` is the caller's (participant, recipient, program_state, group),
    returned unchanged when an action fails."""
    flags = None if trace else program.candidates(bindings)
    outcomes: list[RuleOutcome] = []
    applied: list[ResolvedAction] = []
    stopped_by: str | None = None
    for rule in program.rules:
        if stopped_by is not None:
            outcomes.append(rule.stopped(stopped_by))
        elif rule.windowed and not rule.in_window(received_at):
            outcomes.append(rule.outside_window)
        elif flags is not None and not flags[rule.position]:
            outcomes.append(rule.not_matched)
        elif time.monotonic() > bindings[DEADLINE]:
            outcomes.append(rule.outcome(RuleStatus.SKIPPED_TIMEOUT, error=_OUT_OF_TIME, error_code="DSL_LIMIT_TIME"))
        else:
            if working.stale:
                working.refresh(bindings)
            outcome = _evaluate_condition(rule, bindings, trace)
            if outcome.status is RuleStatus.MATCHED:
                try:
                    actions = apply_actions(rule, bindings, working)
                except ActionFailure as exc:
                    outcomes.append(replace(outcome, error=exc.message, error_code=exc.code))
                    return _failed(received_at, outcomes, exc.code, exc.message, *given)
                applied.extend(action for action in actions if action.status == ActionStatus.APPLIED)
                suppressed = any(action.status == ActionStatus.SUPPRESSED for action in actions)
                status = RuleStatus.BUDGET_EXCEEDED if suppressed else RuleStatus.MATCHED
                outcome = replace(outcome, status=status, actions=actions)
                if rule.stop_after_match:
                    stopped_by = rule.name
            outcomes.append(outcome)
    qualify_tiers(program, working)
    working.holdings.prune()
    return EvaluationResult(
        status=EventStatus.COMPLETED,
        evaluated_at=received_at,
        rules=outcomes,
        actions=applied,
        state_changes=working.changes,
        budget_uses=working.budget_use_list(),
        participant=working.participant,
        recipient=working.recipient,
        program=working.program,
        group=working.group,
        settled=working.holdings.settled,
    )


def lot_orders(program: CompiledProgram) -> dict[str, str]:
    """The program's LOT assets and their spending orders, by symbol."""
    return {symbol: asset.spending_order for symbol, asset in program.assets.items() if asset.inventory_mode == "LOT"}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _failed(received_at, outcomes, code, message, participant, recipient, program_state, group=None):
    return EvaluationResult(
        status=EventStatus.FAILED,
        evaluated_at=received_at,
        rules=outcomes,
        actions=[],
        state_changes=[],
        budget_uses=[],
        participant=participant,
        recipient=recipient,
        program=program_state,
        group=group,
        error_code=code,
        error_message=message,
    )


# --- conditions ---------------------------------------------------------------------------------


def _evaluate_condition(rule: CompiledRule, bindings: dict[str, Any], trace: bool) -> RuleOutcome:
    steps = None
    try:
        if trace:
            traced = rule.condition.evaluate_traced(bindings)
            steps = _trace_steps(traced.steps)
            if traced.error is not None:
                raise traced.error
            value = traced.value
        else:
            value = rule.condition.evaluate(bindings)
    except DslLimitError as exc:
        return rule.outcome(RuleStatus.SKIPPED_TIMEOUT, error=exc.message, error_code=exc.code, trace=steps)
    except DslError as exc:
        return rule.outcome(RuleStatus.SKIPPED_ERROR, error=exc.message, error_code=exc.code, trace=steps)
    except RecursionError:
        return rule.outcome(
            RuleStatus.SKIPPED_TIMEOUT, error="evaluation nested too deeply", error_code="DSL_LIMIT_DEPTH", trace=steps
        )
    if value is True:
        return rule.outcome(RuleStatus.MATCHED, trace=steps)
    if value is False:
        if steps is None and rule.not_matched is not None:
            return rule.not_matched
        return rule.outcome(RuleStatus.NOT_MATCHED, trace=steps)
    return rule.outcome(
        RuleStatus.SKIPPED_ERROR,
        error=f"condition must return a bool, got {type_name(value)}",
        error_code="condition_not_bool",
        trace=steps,
    )


def _trace_steps(steps: list[Any]) -> list[TraceStep]:
    """The steps as plain data; their values share `TRACE_ITEMS_MAX` elements (a loop's steps can
    each hold a list of thousands, or one list many times over)."""
    room = [TRACE_ITEMS_MAX]
    return [
        TraceStep(
            start=step.start,
            end=step.end,
            text=step.text,
            value=None if step.error is not None else trace_value(step.value, room),
            error=None if step.error is None else f"{step.error.code}: {step.error.message}",
        )
        for step in steps
    ]


def trace_value(value: Any, room: list[int] | None = None) -> Any:
    """A CEL value as plain JSON data: timestamps as RFC 3339, durations as seconds ("90s"),
    uints as ints, optionals as their value (or null), map keys as text. At most `room[0]`
    elements (TRACE_ITEMS_MAX without `room`) are kept, and texts are cut to TRACE_TEXT_MAX
    characters; what is left out is said in a text ("… 9000 more")."""
    room = [TRACE_ITEMS_MAX] if room is None else room
    kind = type(value)
    if kind is dict or kind is list:
        kept: list[Any] = []
        items = list(value.items()) if kind is dict else value
        for item in items:
            if room[0] <= 0:
                break
            room[0] -= 1
            kept.append((_key_text(item[0]), trace_value(item[1], room)) if kind is dict else trace_value(item, room))
        left_out = f"… {len(items) - len(kept)} more" if len(kept) < len(items) else None
        if kind is dict:
            return dict(kept) | ({"…": left_out} if left_out else {})
        return kept + ([left_out] if left_out else [])
    if kind is UInt:
        return int(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, timedelta):
        seconds = Decimal(value.days * 86400 + value.seconds) + Decimal(value.microseconds) / 10**6
        return f"{format(seconds.normalize(), 'f')}s"
    if isinstance(value, Optional):
        return trace_value(value.value, room) if value.has_value else None
    if kind is str or kind is bytes:
        return value if len(value) <= TRACE_TEXT_MAX else value[:TRACE_TEXT_MAX] + ("…" if kind is str else b"...")
    if kind in (int, float, bool) or value is None:
        return value
    return str(value)


def _key_text(key: Any) -> str:
    if type(key) is bool:
        return "true" if key else "false"
    return key if type(key) is str else str(key)


# --- tiers --------------------------------------------------------------------------------------


def qualify_tiers(program: CompiledProgram, working: WorkingState) -> None:
    """A22: after the rules, move the participant (and recipient, and the ACTIVE group the event
    names, A258) up to the highest level whose qualification holds on its own counters; never
    down; not for a tier SET_TIER touched in this event, nor for an archived tier."""
    for role in ("participant", "recipient", "group"):
        entity = working.group if role == "group" else working.person(role)
        if entity is None or (role == "group" and entity.status != "ACTIVE"):
            continue
        for tier in program.bundle.tiers:
            if tier.status == "ARCHIVED" or (role, tier.key) in working.tiers_set:
                continue
            current = entity.tiers.get(tier.key)
            best = None
            for level in tier.levels:
                if _qualifies(level.qualification, entity.counters) and (best is None or level.rank > best.rank):
                    best = level
            if best is not None and (current is None or best.rank > current.rank):
                working.set_tier(role, tier.key, best.key, best.rank, rule=None)


def _qualifies(qualification: Any, counters: Mapping[str, Any]) -> bool:
    return qualifies(qualification, {key: counter.value for key, counter in counters.items()})
