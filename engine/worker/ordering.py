"""Per-participant serialisation: which event a worker may take next, and taking it (D15).

An event belongs to its participant's *lane*: the organisation plus the participant's
`external_id` (or its id when the event named the participant by id). A lane is *busy* while
one of its events is PROCESSING under a live lease. A worker woken for any event of a lane
claims the lane's earliest due PENDING event (by `event_timestamp`, then receive time, then id),
never a later one, so events pending together run one at a time and in timestamp order, whatever
the order in which their wake-ups arrive and however many workers run.

A claim is one short write transaction: PENDING -> PROCESSING, `attempts + 1`, and
`next_attempt_at` set to the end of the lease. `attempts` doubles as the fencing token: the
worker's later writes check it, so a worker whose lease expired (and whose event was handed to
another) cannot write anything. On SQLite the transaction holds the write lock (`BEGIN
IMMEDIATE`), on PostgreSQL an advisory lock per lane, so two claimers of one lane never both win.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import peewee

from engine.store.db import is_postgres, utcnow, write_transaction
from engine.store.models_rules import EventRecord

PENDING, PROCESSING, COMPLETED, FAILED = "PENDING", "PROCESSING", "COMPLETED", "FAILED"


@dataclass(frozen=True)
class Lane:
    """The events of one participant within one organisation."""

    organisation_id: str
    external_id: str | None
    participant_id: str | None

    @property
    def key(self) -> str:
        who = f"ext:{self.external_id}" if self.external_id is not None else f"id:{self.participant_id}"
        return f"{self.organisation_id}|{who}"

    def where(self) -> peewee.Expression:
        """The SQL condition selecting this lane's events."""
        if self.external_id is not None:
            return (EventRecord.organisation == self.organisation_id) & (
                EventRecord.external_id == self.external_id
            )
        return (EventRecord.organisation == self.organisation_id) & (
            EventRecord.participant == self.participant_id
        ) & EventRecord.external_id.is_null()


@dataclass(frozen=True)
class Claim:
    """An event this worker now holds: `attempt` is the fencing token (the row's `attempts`)."""

    event_id: str
    attempt: int
    lane: Lane


def lane_of(event: EventRecord) -> Lane:
    return Lane(
        organisation_id=event.organisation_id,
        external_id=event.external_id,
        participant_id=event.participant_id,
    )


def due_time() -> peewee.Node:
    """When a PENDING event may run: `next_attempt_at`, or its receive time if never scheduled."""
    return peewee.fn.COALESCE(EventRecord.next_attempt_at, EventRecord.created_at)


def claim_next(lane: Lane, *, lease_s: float, now: datetime | None = None) -> Claim | None:
    """Take the lane's next event, or None when the lane is busy or has nothing due.

    >>> claim = claim_next(lane_of(event), lease_s=60)   # -> Claim(event_id=..., attempt=1, ...)
    """
    now = now or utcnow()
    with write_transaction():
        lock_lanes([lane])
        if _busy(lane, now):
            return None
        candidate = (
            EventRecord.select(EventRecord.id, EventRecord.attempts)
            .where(lane.where() & (EventRecord.status == PENDING) & (due_time() <= now))
            .order_by(EventRecord.event_timestamp, EventRecord.created_at, EventRecord.id)
            .first()
        )
        if candidate is None:
            return None
        attempt = candidate.attempts + 1
        taken = (
            EventRecord.update(
                status=PROCESSING,
                attempts=attempt,
                next_attempt_at=now + timedelta(seconds=lease_s),
                updated_at=now,
            )
            .where((EventRecord.id == candidate.id) & (EventRecord.status == PENDING))
            .execute()
        )
        return Claim(candidate.id, attempt, lane) if taken == 1 else None


def _busy(lane: Lane, now: datetime) -> bool:
    return (
        EventRecord.select(EventRecord.id)
        .where(lane.where() & (EventRecord.status == PROCESSING) & (EventRecord.next_attempt_at > now))
        .exists()
    )


def lock_lanes(lanes: list[Lane]) -> None:
    """On PostgreSQL take a transaction-scoped advisory lock per lane, in a fixed order (no
    deadlock between two workers locking the same pair). SQLite's write lock already covers it."""
    if not is_postgres():
        return
    db = EventRecord._meta.database
    for key in sorted({lane.key for lane in lanes}):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s, %s)", (0x61637275, _signed32(zlib.crc32(key.encode()))))


def _signed32(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


def still_held(claim: Claim) -> bool:
    """True while the claim is ours: the row is PROCESSING with our fencing token. Call it inside
    the transaction that writes the outcome, so the check and the write commit together."""
    query = EventRecord.select(EventRecord.id).where(
        (EventRecord.id == claim.event_id)
        & (EventRecord.status == PROCESSING)
        & (EventRecord.attempts == claim.attempt)
    )
    if is_postgres():
        query = query.for_update()  # hold the row: the reconciler cannot reset it under us
    return query.exists()
