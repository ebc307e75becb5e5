"""Processing events exactly once: claim, evaluate, post, complete; or retry, or fail (D11-D15).

Huey runs a task at most once, so exactly-once comes from the rows, not the queue:

* the `process_event` task is a wake-up for the event's lane (`ordering`); the worker claims the
  lane's next due event (PENDING -> PROCESSING under a lease, `attempts + 1` as fencing token);
* one write transaction makes the claim (or re-checks it, when an earlier transaction of the
  same lane claimed it), loads the event's context, evaluates it with the pure engine, posts its
  effects (ledger, state, evaluations, auto-created participants), marks it COMPLETED, records
  its webhook events and claims the lane's next event. Either all of that commits or none of it;
* a failed attempt rolls back, then records its error in a second transaction: a business error
  (an `EngineError`: program missing or not ACTIVE, REJECT policy, unknown recipient, an action
  that cannot apply) ends the event FAILED at once; anything else (a locked database, a bug) is
  retried after 2, 4, 8, 16, 32 s (`WorkerSettings`), then FAILED. Every FAILED event gets an
  `event.failed` webhook;
* a worker that dies mid-way leaves PROCESSING behind; when the lease ends the reconciler puts
  the event back to PENDING and wakes its lane. The dead worker's transaction never committed, so
  nothing is applied twice; a worker that only *looked* dead cannot commit late, because its
  fencing token no longer matches;
* an event of a program with a shadow ruleset is evaluated under it too, once the transaction
  that wrote the event has committed (`engine/worker/shadow.py`, A232).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from peewee import SQL

from engine.errors import EngineError
from engine.queue import connection, enqueue_event
from engine.settings import WorkerSettings
from engine.store import statements
from engine.store.db import utcnow, write_transaction
from engine.store.lanes import (
    COMPLETED,
    FAILED,
    PENDING,
    PROCESSING,
    Claim,
    Lane,
    claim_next,
    has_due,
    still_held,
    take_next,
)
from engine.store.models import OPEN_EVENTS, EventRecord
from engine.store.shared_reads import sharing_reads
from engine.webhooks import messages
from engine.worker.pipeline import Pipeline, default_pipeline
from engine.worker.shadow import ShadowJob, run_shadows

if TYPE_CHECKING:
    from engine.queue import Queue
log = logging.getLogger("accrual.worker")

EVENTS_PER_WAKEUP = 200  # then the lane is re-queued, so one busy participant cannot hog a thread
# A commit writes every page its transaction touched; the events of one participant touch mostly
# the same pages (its accounts, the tails of the journal and its indexes), so a backlog commits in
# groups. The bound on time keeps the write lock free for ingest every few milliseconds.
EVENTS_PER_COMMIT = 16
COMMIT_AFTER_S = 0.01


def process_event_task(queue: Queue, event_id: str) -> None:
    """The `process_event` task: drain the lane of `event_id`, one claimed event at a time."""
    with connection(queue.database):
        found = statements.rows(
            "SELECT organisation_id, external_id, participant_id, program_id FROM event WHERE id = {p}",
            [event_id],
            (str, str, str, str),
        )
        if not found:
            return  # rolled back after a non-transactional enqueue, or deleted: nothing to do
        organisation_id, external_id, participant_id, program_id = found[0]
        drain_lane(Lane(organisation_id, external_id, participant_id, program_id), queue.settings)


def drain_lane(lane: Lane, settings: WorkerSettings, pipeline: Pipeline | None = None) -> int:
    """Process the lane's due events in order until none is left; returns how many were claimed.

    Each event is claimed in the transaction that processes it, and the lane's next event in the
    transaction that completes this one. Several of the lane's events share one commit (a group
    of at most `EVENTS_PER_COMMIT`, or what fits in `COMMIT_AFTER_S`): each event is processed in
    a savepoint of its own, so a failed attempt rolls back that event alone, and a crash before
    the commit leaves every event of the group PENDING, to be processed again. The group reads
    the program, its assets and the webhook endpoints once (`sharing_reads`).
    """
    pipeline = pipeline or default_pipeline
    claim: Claim | None = None
    count = 0
    while count < EVENTS_PER_WAKEUP:
        if claim is None and not has_due(lane):  # a read: no write transaction for nothing
            return count
        shadows: list[ShadowJob] = []  # evaluated once the group has committed (A232)
        drained = False
        with write_transaction(), sharing_reads():
            group_ends = time.monotonic() + COMMIT_AFTER_S
            for position in range(EVENTS_PER_COMMIT):
                more = count + 1 < EVENTS_PER_WAKEUP  # not past the last event this wake-up may run
                if claim is None:  # the first of the wake-up, or the one after a failed attempt
                    attempted = attempt_next(lane, settings, pipeline, claim_next_in=more, shadows=shadows)
                    if attempted is None:
                        drained = True
                        break
                    claim = attempted[1]
                else:  # past the group's first event, the claim was taken in this transaction: held
                    held = position > 0
                    claim = attempt(claim, settings, pipeline, claim_next_in=more, shadows=shadows, held=held)[1]
                count += 1
                if count == EVENTS_PER_WAKEUP or time.monotonic() >= group_ends:
                    break
        run_shadows(shadows)
        if drained:
            return count
    _requeue_lane(lane)
    return EVENTS_PER_WAKEUP


def process_claim(claim: Claim, settings: WorkerSettings, pipeline: Pipeline) -> str | None:
    """Run one attempt of a claimed event; returns the status it ended in (None: claim lost)."""
    return attempt(claim, settings, pipeline)[0]


def attempt(
    claim: Claim,
    settings: WorkerSettings,
    pipeline: Pipeline,
    *,
    claim_next_in: bool = False,
    shadows: list[ShadowJob] | None = None,
    held: bool = False,
) -> tuple[str | None, Claim | None]:
    """Run one attempt of a claimed event: the status it ended in (None: claim lost) and, with
    `claim_next_in`, the lane's next event, claimed in the same transaction when this one was
    written (None otherwise: the caller claims afresh). `held`: the claim was taken in the
    transaction this attempt runs in, so it cannot have been lost and is not read again.

    The shadow work of a written event goes to `shadows` once this transaction (or savepoint)
    has ended well, for the caller to run after its commit; without `shadows` it runs here.

    >>> status, following = attempt(claim, settings, default_pipeline, claim_next_in=True)
    """
    found: list[ShadowJob] = []
    try:
        with write_transaction():
            outcome = _outcome_and_next(claim, settings, pipeline, claim_next_in, held=held, shadows=found)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the event
        return _record_attempt_failure(claim, settings, exc), None
    _hand_over(found, shadows)
    return outcome


def attempt_next(
    lane: Lane,
    settings: WorkerSettings,
    pipeline: Pipeline,
    *,
    claim_next_in: bool = False,
    shadows: list[ShadowJob] | None = None,
) -> tuple[str | None, Claim | None] | None:
    """Claim the lane's next due event and run one attempt of it in the same transaction: None
    when nothing was due, else as `attempt`.

    A failed attempt rolls its claim back with everything else; the event is then claimed again
    on its own, if it is still the lane's next, so that the attempt counts and its failure is
    recorded.
    """
    claim: Claim | None = None
    found: list[ShadowJob] = []
    try:
        with write_transaction():
            claim = take_next(lane, lease_s=settings.event_lease_s)
            if claim is None:
                return None
            outcome = _outcome_and_next(claim, settings, pipeline, claim_next_in, held=True, shadows=found)
    except Exception as exc:
        if claim is None:
            raise  # the claim itself failed: nothing was attempted; the reconciler wakes the lane
        failed = claim_next(lane, lease_s=settings.event_lease_s, only=claim.event_id)
        if failed is None:  # another worker holds it now, or an earlier event came first
            return None, None
        return _record_attempt_failure(failed, settings, exc), None
    _hand_over(found, shadows)
    return outcome


def _hand_over(found: list[ShadowJob], shadows: list[ShadowJob] | None) -> None:
    """Shadow work of an attempt that ended well: to the caller's list, or run now."""
    if shadows is not None:
        shadows.extend(found)
    else:
        run_shadows(found)


def _record_attempt_failure(claim: Claim, settings: WorkerSettings, exc: Exception) -> str | None:
    """A business error (`EngineError`) ends the event FAILED; anything else is retried."""
    if isinstance(exc, EngineError):
        log.info("event %s failed: %s (%s)", claim.event_id, exc, exc.code)
        return record_failure(claim, settings, exc.code, str(exc), retry=False)
    log.warning("event %s attempt %d failed", claim.event_id, claim.attempt, exc_info=exc)
    return record_failure(claim, settings, "processing_error", _describe(exc), retry=True)


def _outcome_and_next(
    claim: Claim,
    settings: WorkerSettings,
    pipeline: Pipeline,
    claim_next_in: bool,
    *,
    held: bool,
    shadows: list[ShadowJob],
) -> tuple[str | None, Claim | None]:
    """Inside the processing transaction: the event's outcome, then the lane's next claim.

    Claiming inside this transaction keeps the claim's rules: the lane is locked (advisory lock
    on PostgreSQL, the write lock on SQLite), the finished event is no longer PROCESSING, and the
    claim commits (with its lease and fencing token) or rolls back with the outcome it follows.
    """
    status = _write_outcome(claim, settings, pipeline, held=held, shadows=shadows)
    following = take_next(claim.lane, lease_s=settings.event_lease_s) if status and claim_next_in else None
    return status, following


def _write_outcome(
    claim: Claim, settings: WorkerSettings, pipeline: Pipeline, *, held: bool, shadows: list[ShadowJob]
) -> str | None:
    """Inside the processing transaction: the claimed event's outcome (None: the claim was lost).
    `held`: the claim was taken in this very transaction, so it cannot have been lost."""
    if not held and not still_held(claim):
        return None
    applied = pipeline(claim.record)
    if applied.shadow is not None:
        shadows.append(applied.shadow)
    now = utcnow()
    for wake_up in applied.wake_ups:
        enqueue_event(wake_up.event_id, delay_s=wake_up.delay_s)
    event = applied.record or claim.record
    if applied.status == FAILED:
        event.error_code, event.error_message = applied.error_code, applied.error_message
        publish_failed(event, settings, now)
        for move in applied.tier_moves:  # the levels reviewed before the event stay reviewed (A139)
            data = messages.tier_changed_data(move)
            messages.publish(event.organisation_id, "participant.tier_changed", data, now=now,
                             max_attempts=settings.webhook_max_attempts)  # fmt: skip
        return FAILED
    if applied.status != COMPLETED or applied.result is None:
        raise RuntimeError(f"event {claim.event_id}: the pipeline left it {applied.status}")
    endpoints = messages.subscribers(claim.lane.organisation_id)
    if endpoints:
        reported = [
            ("balance.expired", messages.expiry_data(settlement))
            for settlement in applied.settlements
            if settlement.kind == "EXPIRED"
        ]
        reported += messages.event_messages(event, applied.result, created=applied.created_participants)
        reported += [("participant.tier_changed", messages.tier_changed_data(move)) for move in applied.tier_moves]
        for event_type, data in reported:
            messages.publish(
                event.organisation_id,
                event_type,
                data,
                endpoints=endpoints,
                max_attempts=settings.webhook_max_attempts,
                now=now,
            )
    return COMPLETED


def record_failure(
    claim: Claim, settings: WorkerSettings, code: str, message: str, *, retry: bool, now: datetime | None = None
) -> str | None:
    """Record a failed attempt: schedule the next one, or end the event FAILED."""
    now = now or utcnow()
    with write_transaction():
        if not still_held(claim):
            return None
        if retry and claim.attempt < settings.event_max_attempts:
            delay_s = settings.event_retry_delays_s[claim.attempt - 1]
            _set_status(
                claim,
                now,
                status=PENDING,
                next_attempt_at=now + timedelta(seconds=delay_s),
                error_code=code,
                error_message=message,
            )
            enqueue_event(claim.event_id, delay_s=delay_s)
            return PENDING
        _set_status(
            claim, now, status=FAILED, processed_at=now, next_attempt_at=None, error_code=code, error_message=message
        )
        claim.record.error_code, claim.record.error_message = code, message
        publish_failed(claim.record, settings, now)
        return FAILED


def publish_failed(event: EventRecord, settings: WorkerSettings, now: datetime) -> None:
    """The `event.failed` webhook of an event that has just been marked FAILED."""
    data = messages.event_data(event, status=FAILED, processed_at=now)
    data.update(error_code=event.error_code, error_message=event.error_message)
    messages.publish(event.organisation_id, "event.failed", data, max_attempts=settings.webhook_max_attempts, now=now)


def _set_status(claim: Claim, now: datetime, **fields: Any) -> None:
    fields.setdefault("next_attempt_at", None)
    changed = (
        EventRecord.update(updated_at=now, **fields)
        .where(
            (EventRecord.id == claim.event_id)
            & (EventRecord.status == PROCESSING)
            & (EventRecord.attempts == claim.attempt)
        )
        .execute()
    )
    if changed != 1:  # still_held() ran in this transaction, so this is a broken invariant
        raise RuntimeError(f"event {claim.event_id}: claim lost inside its own transaction")


def _requeue_lane(lane: Lane) -> None:
    with write_transaction():
        first = (
            EventRecord.select(EventRecord.id)
            .where(lane.where() & SQL(OPEN_EVENTS) & (EventRecord.status == PENDING))
            .order_by(EventRecord.event_timestamp)
            .first()
        )
        if first is not None:
            enqueue_event(first.id)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}"[:1000] if text else type(exc).__name__
