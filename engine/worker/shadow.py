"""Shadow evaluation in the worker (A232): after the live transaction of a group of events has
committed, each event of a program with an ACTIVE shadow is evaluated again, by the same pure
evaluator, from the very `EvaluationInput` the live evaluation saw (the evaluator changes only
copies of it), against the shadow's compiled rules; the comparisons are written in one
transaction to `shadow_evaluation`, once per (event, shadow).

    job = shadow_job(context, result, status, error_code)   # inside the live transaction
    run_shadows([job, ...])                                 # after it has committed

A shadow never delays or endangers the live write: it runs after the commit, and any failure of
it is caught here. A shadow that cannot compile or evaluate is recorded as an ERROR evaluation.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import msgspec

from engine.evaluator.evaluate import evaluate_event
from engine.model.bundle import Bundle
from engine.model.result import EvaluationResult
from engine.model.state import EvaluationInput
from engine.replay.shadow import compare_event, live_outcome
from engine.rules.program import CompiledProgram, ProgramCompileError, compile_program
from engine.store.context import EventContext
from engine.store.db import new_id, utcnow
from engine.store.shadows import record_evaluations, shadow_bundle

log = logging.getLogger("accrual.worker.shadow")
COMPILED_SHADOWS = 32


@dataclass(frozen=True)
class ShadowJob:
    """One event to evaluate under its program's shadow, with what the live evaluation saw and did."""

    organisation_id: str
    program_id: str
    shadow_id: str
    event_id: str
    participant_id: str | None
    inputs: EvaluationInput
    live: EvaluationResult
    live_status: str
    live_error_code: str | None


def shadow_job(
    context: EventContext, result: EvaluationResult, status: str, error_code: str | None
) -> ShadowJob | None:
    """The shadow work of an event evaluated live, or None when its program has no shadow."""
    if context.shadow_id is None:
        return None
    record = context.record
    return ShadowJob(
        organisation_id=record.organisation_id,
        program_id=record.program_id,
        shadow_id=context.shadow_id,
        event_id=record.id,
        participant_id=record.participant_id,
        inputs=context.inputs,
        live=result,
        live_status=status,
        live_error_code=error_code,
    )


class ShadowCompileError(Exception):
    """A shadow ruleset that no longer compiles: each event it sees records the error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class _CompiledShadows:
    """Compiled shadows by id (a shadow row never changes), and the error of one that fails."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[str, CompiledProgram | ShadowCompileError] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, shadow_id: str) -> CompiledProgram | None:
        """The compiled shadow (None: it has ended meanwhile); raises `ShadowCompileError`."""
        with self._lock:
            found = self._items.get(shadow_id)
        if found is None:
            stored = shadow_bundle(shadow_id)
            if stored is None:
                return None
            found = _compile(stored[1])
            with self._lock:
                self._items[shadow_id] = found
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        if isinstance(found, ShadowCompileError):
            raise found
        return found


def _compile(data: dict[str, Any]) -> CompiledProgram | ShadowCompileError:
    try:
        return compile_program(msgspec.convert(data, Bundle))
    except msgspec.ValidationError as exc:
        return ShadowCompileError("shadow_invalid_bundle", str(exc))
    except ProgramCompileError as exc:
        return ShadowCompileError("shadow_compile_error", str(exc))


compiled_shadows = _CompiledShadows(COMPILED_SHADOWS)


def evaluate_shadow(job: ShadowJob) -> dict[str, Any] | None:
    """The `shadow_evaluation` row of one job (None: the shadow ended before it could run)."""
    error: tuple[str, str] | None = None
    result: EvaluationResult | None = None
    try:
        program = compiled_shadows.get(job.shadow_id)
        if program is None:
            return None
        result = evaluate_event(program, job.inputs)
    except ShadowCompileError as exc:
        error = (exc.code, str(exc))
    except Exception as exc:  # noqa: BLE001 - a shadow's failure is recorded, never raised
        error = ("shadow_evaluation_error", f"{type(exc).__name__}: {exc}"[:1000])
    live = live_outcome(job.live, job.live_status, job.live_error_code)
    compared = compare_event(live, result, error)
    return {
        "id": new_id(),
        "organisation_id": job.organisation_id,
        "program_id": job.program_id,
        "shadow": job.shadow_id,
        "event": job.event_id,
        "participant_id": job.participant_id,
        "status": "ERROR" if error else str(compared.shadow["status"]),
        "error_code": error[0] if error else compared.shadow["error_code"],
        "error_message": error[1] if error else None,
        "live": compared.live,
        "shadowed": compared.shadow,
        "live_flows": compared.live_flows,
        "shadow_flows": compared.shadow_flows,
        "differs": compared.differs,
        "created_at": utcnow(),
    }


def run_shadows(jobs: list[ShadowJob]) -> int:
    """Evaluate the jobs and write their rows in one transaction; returns how many were written.
    Called after the live transaction committed; whatever fails here is logged, never raised."""
    if not jobs:
        return 0
    try:
        rows = [row for row in map(evaluate_shadow, jobs) if row is not None]
        return record_evaluations(rows) if rows else 0
    except Exception:  # the live events are committed: a shadow write that fails is logged
        log.warning("shadow evaluations of %d event(s) not written", len(jobs), exc_info=True)
        return 0
