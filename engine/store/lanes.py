"""Per-participant serialisation: which event a worker may take next, and taking it (D15).

An event belongs to its participant's *lane*: the organisation plus the participant's
`external_id` (or its id when the event named the participant by id). An event of no participant
(the SYSTEM event of a program-scope automation, A220) belongs to its program's lane: the
organisation plus the program, over the events that name no participant. A lane is *busy* while
one of its events is PROCESSING under a live lease. A worker woken for any event of a lane
claims the lane's earliest due PENDING event (by `event_timestamp`, then receive time, then id),
never a later one, so events pending together run one at a time and in timestamp order, whatever
the order in which their wake-ups arrive and however many workers run.

A claim (`take_next`) happens inside the write transaction that processes the event, or in one of
its own (`claim_next`): PENDING -> PROCESSING, `attempts + 1`, and `next_attempt_at` set to the
end of the lease. `attempts` doubles as the fencing token: the
worker's later writes check it, so a worker whose lease expired (and whose event was handed to
another) cannot write anything. On SQLite the transaction holds the write lock (`BEGIN
IMMEDIATE`), on PostgreSQL an advisory lock per lane, so two claimers of one lane never both win.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import peewee

from engine.model.vocabulary import EventStatus
from engine.store import statements
from engine.store.db import is_postgres, utcnow, write_transaction
from engine.store.models import OPEN_EVENTS, EventRecord

PENDING, PROCESSING, COMPLETED, FAILED = (
    EventStatus.PENDING,
    EventStatus.PROCESSING,
    EventStatus.COMPLETED,
    EventStatus.FAILED,
)


@dataclass(frozen=True)
class Lane:
    """The events of one participant within one organisation; with neither `external_id` nor
    `participant_id`, the events of no participant within the program `program_id`."""

    organisation_id: str
    external_id: str | None
    participant_id: str | None
    program_id: str | None = None

    @classmethod
    def of_program(cls, organisation_id: str, program_id: str) -> Lane:
        return cls(organisation_id, None, None, program_id)

    @property
    def is_program(self) -> bool:
        return self.external_id is None and self.participant_id is None

    @property
    def key(self) -> str:
        if self.is_program:
            return f"{self.organisation_id}|program:{self.program_id}"
        who = f"ext:{self.external_id}" if self.external_id is not None else f"id:{self.participant_id}"
        return f"{self.organisation_id}|{who}"

    def sql(self) -> str:
        """The lane's condition as SQL text with `{p}` placeholders (for cached statements)."""
        if self.external_id is not None:
            return "(organisation_id = {p} AND external_id = {p})"
        if self.is_program:
            return "(organisation_id = {p} AND program_id = {p} AND participant_id IS NULL AND external_id IS NULL)"
        return "(organisation_id = {p} AND participant_id = {p} AND external_id IS NULL)"

    def params(self) -> list[str | None]:
        if self.is_program:
            return [self.organisation_id, self.program_id]
        who = self.external_id if self.external_id is not None else self.participant_id
        return [self.organisation_id, who]

    def where(self) -> peewee.Expression:
        """The SQL condition selecting this lane's events."""
        if self.external_id is not None:
            return (EventRecord.organisation == self.organisation_id) & (EventRecord.external_id == self.external_id)
        if self.is_program:
            return (
                (EventRecord.organisation == self.organisation_id)
                & (EventRecord.program == self.program_id)
                & EventRecord.participant.is_null()
                & EventRecord.external_id.is_null()
            )
        return (
            (EventRecord.organisation == self.organisation_id)
            & (EventRecord.participant == self.participant_id)
            & EventRecord.external_id.is_null()
        )


@dataclass(frozen=True)
class Claim:
    """An event this worker now holds: `attempt` is the fencing token (the row's `attempts`)."""

    event_id: str
    attempt: int
    lane: Lane
    record: EventRecord  # the row as claimed (PROCESSING, `attempts` = `attempt`), read once


def lane_of(event: EventRecord) -> Lane:
    return Lane(
        organisation_id=event.organisation_id,
        external_id=event.external_id,
        participant_id=event.participant_id,
        program_id=event.program_id,
    )


def due_time() -> peewee.Function:
    """When a PENDING event may run: `next_attempt_at`, or its receive time if never scheduled."""
    return peewee.fn.COALESCE(EventRecord.next_attempt_at, EventRecord.created_at)


def claim_next(lane: Lane, *, lease_s: float, now: datetime | None = None, only: str | None = None) -> Claim | None:
    """Take the lane's next event in a transaction of its own, or None when the lane is busy or
    has nothing due (see `take_next` for `only`).

    >>> claim = claim_next(lane_of(event), lease_s=60)   # -> Claim(event_id=..., attempt=1, ...)
    """
    with write_transaction():
        return take_next(lane, lease_s=lease_s, now=now, only=only)


def take_next(lane: Lane, *, lease_s: float, now: datetime | None = None, only: str | None = None) -> Claim | None:
    """`claim_next` inside the caller's write transaction (the claim commits or rolls back with
    it). With `only`, claim nothing unless the lane's next event is that one."""
    now = now or utcnow()
    stamp = EventRecord.next_attempt_at.db_value(now)
    lock_lanes([lane])
    # One statement: the earliest due PENDING event, unless the lane has a live PROCESSING one.
    # Among open events `<> 'PROCESSING'` is PENDING and `<> 'PENDING'` is PROCESSING; written so,
    # neither is an index condition, and PostgreSQL's cached plans search the lane's index rather
    # than the due-time index over the open events of every lane (A279).
    found = statements.fetch(
        EventRecord,
        f"{lane.sql()} AND {OPEN_EVENTS} AND status <> 'PROCESSING' "
        "AND COALESCE(next_attempt_at, created_at) <= {p} "
        f"AND NOT EXISTS (SELECT 1 FROM event WHERE {lane.sql()} AND {OPEN_EVENTS} AND status <> 'PENDING' "
        "AND next_attempt_at > {p}) "
        "ORDER BY event_timestamp, created_at, id LIMIT 1",
        [*lane.params(), stamp, *lane.params(), stamp],
    )
    if not found or (only is not None and found[0].id != only):
        return None
    record = found[0]
    record.status, record.attempts = EventStatus.PROCESSING, record.attempts + 1
    record.next_attempt_at, record.updated_at = now + timedelta(seconds=lease_s), now
    # Only claimers of this lane change a PENDING row's status, and they hold the lane's lock.
    statements.update(
        EventRecord,
        record.id,
        status=str(record.status),
        attempts=record.attempts,
        next_attempt_at=record.next_attempt_at,
        updated_at=now,
    )
    return Claim(record.id, record.attempts, lane, record)


def has_due(lane: Lane, now: datetime | None = None) -> bool:
    """Whether the lane has a due PENDING event: one read, no write lock, so a wake-up whose lane
    an earlier wake-up already drained costs no write transaction. A PENDING event this misses
    (committed just after) has its own wake-up, committed with it, still to come, or a worker
    already bound to reach it (`lane_is_awake`)."""
    stamp = EventRecord.next_attempt_at.db_value(now or utcnow())
    return bool(
        statements.rows(
            f"SELECT 1 FROM event WHERE {lane.sql()} AND {OPEN_EVENTS} AND status = 'PENDING' "
            "AND COALESCE(next_attempt_at, created_at) <= {p} LIMIT 1",
            [*lane.params(), stamp],
            (int,),
        )
    )


def lane_is_awake(lane: Lane, now: datetime | None = None) -> bool:
    """Whether a worker is already bound to reach a new event of the lane without a wake-up of
    its own: the lane has a due PENDING event (whose wake-up, or the drain that is running it,
    goes on to every due event of the lane, in order) or a PROCESSING one under a live lease
    (whose worker claims the lane's next event in the transaction that completes it, or hands the
    lane back to the queue). Call it inside the transaction that stores the new event, after
    `lock_lanes`: then no worker can end its drain between this check and that commit.

    Under a backlog most events find their lane awake, and the queue carries one wake-up per
    busy lane instead of one per event."""
    stamp = EventRecord.next_attempt_at.db_value(now or utcnow())
    return bool(
        statements.rows(
            f"SELECT 1 FROM event WHERE {lane.sql()} AND {OPEN_EVENTS} AND ("
            "(status = 'PENDING' AND COALESCE(next_attempt_at, created_at) <= {p}) "
            "OR (status = 'PROCESSING' AND next_attempt_at > {p})) LIMIT 1",
            [*lane.params(), stamp, stamp],
            (int,),
        )
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
    the transaction that writes the outcome, so the check and the write commit together (on
    PostgreSQL the row stays locked until then: the reconciler cannot reset it under us)."""
    lock = " FOR UPDATE" if is_postgres() else ""
    return bool(
        statements.rows(
            "SELECT id FROM event WHERE id = {p} AND status = 'PROCESSING' AND attempts = {p}" + lock,
            [claim.event_id, claim.attempt],
            (str,),
        )
    )
