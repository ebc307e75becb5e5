"""`post_event_effects`: write what evaluating one event produced, in ONE transaction (D14).

    outcome = post_event_effects(event_id, result)
    outcome.written, outcome.status, outcome.journal_entry_ids, outcome.wake_ups

A COMPLETED result writes the rule evaluations, a journal entry per applied balance action, the
balances, tags, counters, attributes and tiers with their history, the budget consumption, the
follow-up events of SCHEDULE_EVENT and BROADCAST, and the event's status; or, if any of it is
refused (insufficient funds now, an inactive participant, a budget another event filled
meanwhile), none of it: the event then becomes FAILED with that error, as a FAILED result does
(only the evaluations and the error are written).

Concurrency: the event row, the organisation's ledger head and every state owner are locked
(`SELECT ... FOR UPDATE` on PostgreSQL; SQLite takes its write lock at `BEGIN IMMEDIATE`), in
that order, and counters are incremented from the locked stored value, not from the value the
rules saw, so concurrent events never lose an update. Calling it again for an event that is no
longer PENDING or PROCESSING writes nothing.

The reads and the checks that refuse come first; the writes that can no longer be refused (the
evaluations, the entries, postings and guarded balances with their read-back, the ledger head,
the state history and the event's status) come last, and on PostgreSQL go in one round trip
(`pipelining.pipelined`), the ledger's proof running when their results return.

The follow-up events are created here; waking a worker for them is the caller's (`wake_ups`),
since storage does not know the queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from engine.errors import EngineError
from engine.model.result import API_RULE_STATUS, EvaluationResult, RuleStatus
from engine.model.vocabulary import BALANCE_ACTIONS, OPEN_EVENT_STATUSES, ActionStatus, EventStatus
from engine.store import lookups, statements
from engine.store.applier import Applier, RuleIndex
from engine.store.db import new_id, utcnow, write_transaction
from engine.store.followups import WakeUp, write_followups
from engine.store.models import EventRecord, RuleEvaluation
from engine.store.pipelining import pipelined


class PostOutcome(msgspec.Struct, kw_only=True):
    written: bool  # False: the event was already finished, nothing was written
    status: str  # the event's status afterwards
    journal_entry_ids: list[str] = msgspec.field(default_factory=list)
    wake_ups: list[WakeUp] = msgspec.field(default_factory=list)  # follow-up events to enqueue
    settlements: list[Any] = msgspec.field(default_factory=list)  # lots the event's movements expired first
    tier_moves: list[Any] = msgspec.field(default_factory=list)  # `tier_standing.TierMove`s it made
    error_code: str | None = None
    error_message: str | None = None


def post_event_effects(
    event: EventRecord | str,
    result: EvaluationResult,
    *,
    refresh_tiers: bool = False,
    rolling_tiers: Mapping[str, frozenset[str]] | None = None,
) -> PostOutcome:
    """Write `result` for the event (its id, or its row as `load_event_context` resolved it, whose
    participant ids are then written with the outcome) in one transaction; see the module
    docstring. `refresh_tiers`: the program has ACTIVITY_REFRESH tiers, whose waits the event
    starts again (A129). `rolling_tiers`: the program's tiers that roll counters over at period
    ends, each key with its qualifying counters (A215; None: the tiers are read when the event
    writes a participant's counter)."""
    resolved = event if isinstance(event, EventRecord) else None
    event_id = event.id if isinstance(event, EventRecord) else event
    try:
        with write_transaction():
            posts = result.status == EventStatus.COMPLETED and any(
                a.status == ActionStatus.APPLIED and a.type in BALANCE_ACTIONS for a in result.actions
            )
            event, head = _locked_event_and_head(event_id) if posts else (_locked_event(event_id), None)
            named = _take_participants(event, resolved)
            if event.status not in OPEN_EVENT_STATUSES:
                return PostOutcome(written=False, status=event.status)
            rules = RuleIndex(result)
            if result.status != EventStatus.COMPLETED:
                _write_evaluations(event, result, rules)
                code = result.error_code or "evaluation_failed"
                _finish(event, EventStatus.FAILED, code, result.error_message, named)
                return PostOutcome(
                    written=True,
                    status=EventStatus.FAILED,
                    error_code=event.error_code,
                    error_message=event.error_message,
                )
            applier = Applier(event, rules, head, refresh_tiers=refresh_tiers, rolling_tiers=rolling_tiers)
            entry_ids = applier.apply_actions(result)
            wake_ups = write_followups(event, result)
            with pipelined():  # on PostgreSQL, the writes below in one round trip
                _write_evaluations(event, result, rules)
                applier.write()
                _finish(event, EventStatus.COMPLETED, None, None, named)
            return PostOutcome(
                written=True,
                status=EventStatus.COMPLETED,
                journal_entry_ids=entry_ids,
                wake_ups=wake_ups,
                settlements=list(applier.ledger.settlements) if applier.ledger is not None else [],
                tier_moves=applier.tier_moves,
            )
    except EngineError as exc:  # StoreError, LedgerInvariantError, LimitExceeded...: all rolled back
        return _record_failure(event_id, resolved, result, exc)


def _record_failure(
    event_id: str, resolved: EventRecord | None, result: EvaluationResult, error: EngineError
) -> PostOutcome:
    with write_transaction():
        event = _locked_event(event_id)
        named = _take_participants(event, resolved)
        if event.status not in OPEN_EVENT_STATUSES:
            return PostOutcome(written=False, status=event.status)
        _write_evaluations(event, result, RuleIndex(result))
        _finish(event, EventStatus.FAILED, error.code, error.message, named)
        return PostOutcome(written=True, status=EventStatus.FAILED, error_code=error.code, error_message=error.message)


def _locked_event(event_id: str) -> EventRecord:
    found = statements.fetch(EventRecord, "id = {p}", [event_id], for_update=True)
    if not found:
        raise lookups.NotFound(f"event {event_id} not found", resource="event", id=event_id)
    return found[0]


def _locked_event_and_head(event_id: str) -> tuple[EventRecord, tuple[int, str] | None]:
    """The event and its organisation's ledger head (sequence, last hash), locked in that order
    by one statement; (event, None) when the organisation has no head yet (its first entry: the
    `Ledger` creates and locks it)."""
    found = statements.fetch_joined(
        EventRecord,
        "JOIN ledger_head AS h ON h.id = t.organisation_id",
        ("h.sequence", "h.last_hash"),
        "t.id = {p}",
        [event_id],
        for_update=True,
    )
    if not found:
        return _locked_event(event_id), None
    event, (sequence, last_hash) = found[0]
    return event, (int(sequence), last_hash)


def _take_participants(event: EventRecord, resolved: EventRecord | None) -> dict[str, str]:
    """The participant ids resolved before this transaction that the locked row lacks: set on it,
    and returned for `_finish` to write (only those: writing an unchanged indexed column still
    rewrites its index entries)."""
    named: dict[str, str] = {}
    if resolved is not None:
        for field_name in ("participant", "recipient"):
            stored, found = getattr(event, f"{field_name}_id"), getattr(resolved, f"{field_name}_id")
            if stored is None and found is not None:
                setattr(event, f"{field_name}_id", found)
                named[field_name] = found
    return named


def _finish(
    event: EventRecord, status: EventStatus, code: str | None, message: str | None, named: dict[str, str]
) -> None:
    now = utcnow()
    event.status, event.error_code, event.error_message, event.processed_at = status, code, message, now
    # A finished event has no next attempt: this also ends a worker's lease on it. The participant
    # ids resolved before this transaction go with it (`_take_participants`).
    statements.update(
        EventRecord,
        event.id,
        **named,
        status=str(status),
        error_code=code,
        error_message=message,
        processed_at=now,
        next_attempt_at=None,
        updated_at=now,
    )


def _write_evaluations(event: EventRecord, result: EvaluationResult, rules: RuleIndex) -> None:
    """One row per listed rule (D31: rules whose condition was simply false are not listed)."""
    rows = []
    for outcome in result.rules:
        if outcome.status == RuleStatus.NOT_MATCHED:
            continue
        status, reason = API_RULE_STATUS.get(outcome.status, (str(outcome.status), None))
        if outcome.error_code and outcome.status == RuleStatus.MATCHED:
            status = "FAILED"  # the rule whose action failed the event
        rule_id, version, history_id = rules.by_name.get(outcome.rule, (None, None, None))
        stopped_by = rules.by_name.get(outcome.stopped_by, (None, None, None))[0] if outcome.stopped_by else None
        rows.append(
            {
                "event": event.id,
                "rule_id": rule_id,
                "rule_name": outcome.rule,
                "rule_history_id": history_id,
                "rule_version": version,
                "status": status,
                "engine_status": str(outcome.status),
                "reason": reason,
                "stopped_by_rule_id": stopped_by,
                "error_code": outcome.error_code,
                "error_message": outcome.error,
                "actions": msgspec.to_builtins(outcome.actions),
                "attempt": event.attempts or 1,
            }
        )
    if rows:
        now = utcnow()
        for row in rows:
            row["id"], row["created_at"] = new_id(), now
        statements.insert(RuleEvaluation, rows)
