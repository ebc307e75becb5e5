"""What processing one claimed event means: load its context, evaluate it with the pure engine,
post its effects. The processor runs a pipeline inside the transaction that holds the claim, so
everything it writes commits with the event's status or not at all.

    applied = default_pipeline(claim.record)
    applied.status, applied.result, applied.wake_ups

Tests pass pipelines of their own (a function of the event's row returning `Applied`) to drive
the processor through failures and slow paths.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.evaluator.evaluate import evaluate_event
from engine.model.result import EvaluationResult
from engine.model.tier_lifecycle import rolls_over
from engine.model.vocabulary import EventStatus
from engine.store.context import load_event_context
from engine.store.db import utcnow
from engine.store.effects import post_event_effects
from engine.store.followups import WakeUp
from engine.store.models import EventRecord
from engine.worker.shadow import ShadowJob, shadow_job
from engine.worker.subscriptions import check_thresholds


@dataclass(frozen=True)
class Applied:
    """What the pipeline did for one event inside the processing transaction.

    `status` is the event's status afterwards: COMPLETED, or FAILED when the engine or the ledger
    refused an action (then only the failure and the evaluations were written, D14). `record` is
    the event's row with its participants resolved; `wake_ups` are the follow-up events it created.
    """

    result: EvaluationResult | None
    status: str
    record: EventRecord | None = None
    error_code: str | None = None
    error_message: str | None = None
    created_participants: list[dict[str, Any]] = field(default_factory=list)
    wake_ups: list[WakeUp] = field(default_factory=list)
    settlements: list[Any] = field(default_factory=list)  # lots its movements expired or matured first
    tier_moves: list[Any] = field(default_factory=list)  # levels it changed (`participant.tier_changed`)
    shadow: ShadowJob | None = None  # the program's shadow to evaluate once this has committed (A232)


Pipeline = Callable[[EventRecord], Applied]


@dataclass
class Phases:
    """Seconds the pipeline spent in each of its steps, summed over the events it ran: `context`
    (resolving participants and reading the state), `evaluate` (the pure engine) and `write`
    (posting the effects). What a benchmark passes to see where an event's time goes."""

    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    events: int = 0


def default_pipeline(record: EventRecord, phases: Phases | None = None) -> Applied:
    """Resolve participants, load the context, evaluate with the pure engine, post the effects;
    with `phases`, add the time of each step to it.

    Participants created here (on_unknown_participant CREATE, D17), the follow-up events of
    SCHEDULE_EVENT and BROADCAST actions, and the events of THRESHOLD subscriptions whose counter
    the event moved past their threshold (A224) commit with the event's effects or not at all.
    """
    started = time.perf_counter()
    context = load_event_context(record, persist_participants=False)  # written with the outcome
    loaded = time.perf_counter()
    result = evaluate_event(context.program, context.inputs)
    evaluated = time.perf_counter()
    tiers = context.program.bundle.tiers
    refresh = any(tier.lifecycle.mode == "ACTIVITY_REFRESH" for tier in tiers)
    rolling = {tier.key: frozenset(tier.lifecycle.qualifying) for tier in tiers if rolls_over(tier)}
    outcome = post_event_effects(context.record, result, refresh_tiers=refresh, rolling_tiers=rolling)
    if outcome.status == EventStatus.FAILED:
        context.record.error_code, context.record.error_message = outcome.error_code, outcome.error_message
    else:
        check_thresholds(context.record, result.state_changes, utcnow())
    if phases is not None:
        steps = {"context": loaded - started, "evaluate": evaluated - loaded, "write": time.perf_counter() - evaluated}
        for step, seconds in steps.items():
            phases.seconds[step] += seconds
        phases.events += 1
    created = [{"participant_id": person.id, "external_id": person.external_id} for person in context.created]
    return Applied(
        result=result,
        status=outcome.status,
        record=context.record,
        error_code=outcome.error_code,
        error_message=outcome.error_message,
        created_participants=created,
        wake_ups=outcome.wake_ups,
        settlements=outcome.settlements,
        tier_moves=context.tier_moves + outcome.tier_moves,
        shadow=shadow_job(context, result, outcome.status, outcome.error_code),
    )
