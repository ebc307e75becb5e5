"""Durable, idempotent event ingestion (D11, D12).

An accepted event is durable before the API answers: the event row and its queue entry are written
in one transaction (`enqueue_event` adds the SqlHuey row to the caller's transaction), so a 202 is
never lost and a rolled-back insert never wakes a worker. An event whose participant's lane is
already awake (`lane_is_awake`: a worker is bound to reach it) gets no wake-up of its own, so under
a backlog the queue holds one wake-up per busy participant rather than one per event.

Idempotency is scoped to the program. The request's semantic fields are normalised (key order,
whitespace, trailing decimal zeros: `10.50` == `10.5`, `10.0` == `10`; timestamps as UTC instants)
and hashed. The same key with the same hash answers the original event; with another hash, 409
`idempotency_conflict` naming the fields that differ. The unique index on
`(program, idempotency_key)` makes any number of concurrent duplicates create one row.
"""

from __future__ import annotations

import hashlib
from datetime import UTC
from typing import Any

import msgspec

from api.auth import Principal
from api.errors import BadRequest, IdempotencyConflict, NotFound, field_error
from api.event_validation import check_at_ingest
from api.schemas.events import EventIngest
from engine.errors import LimitExceeded
from engine.limits import check_event_data
from engine.queue import enqueue_event
from engine.store.db import database_proxy, is_postgres, new_id, unique_insert, utcnow, write_transaction
from engine.store.errors import Duplicate
from engine.store.lanes import lane_is_awake, lane_of, lock_lanes
from engine.store.models import EventRecord, Participant, Program

IDENTITY_FIELDS = ("external_id", "participant_id", "recipient_id", "recipient_external_id")


def _canonical(value: Any) -> Any:
    """Numbers compare by value (an integral float is its int), maps by sorted keys."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def normalised_payload(data: EventIngest) -> dict[str, Any]:
    """The fields that define an event's identity and content, in canonical form.

    Example: `normalised_payload(e)["event_timestamp"]` -> `"2026-01-01T12:00:00+00:00"`.
    """
    payload: dict[str, Any] = {
        "program_id": data.program_id,
        "event_timestamp": data.event_timestamp.astimezone(UTC).isoformat(),
        "event_data": _canonical(data.event_data),
    }
    for name in IDENTITY_FIELDS:
        if getattr(data, name) is not None:
            payload[name] = getattr(data, name)
    return payload


def payload_hash(payload: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a normalised payload (sorted keys, no whitespace)."""
    return hashlib.sha256(msgspec.json.encode(payload, order="sorted")).hexdigest()


def _stored_payload(row: EventRecord) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "program_id": row.program_id,
        "event_timestamp": row.event_timestamp.astimezone(UTC).isoformat(),
        "event_data": _canonical(row.event_data),
    }
    stored = {
        "external_id": row.external_id,
        "participant_id": row.participant_id,
        "recipient_id": row.recipient_id,
        "recipient_external_id": row.recipient_external_id,
    }
    payload.update({k: v for k, v in stored.items() if v is not None})
    return payload


def differing_fields(stored: dict[str, Any], given: dict[str, Any]) -> list[str]:
    """Names of the fields that differ; inside `event_data` down to the first key level
    (`event_data.amount`). Identity fields the worker filled in later (for example the
    `participant_id` of an event sent by `external_id`) only count when the request names them."""
    fields: list[str] = []
    for name in ("program_id", "event_timestamp", *IDENTITY_FIELDS):
        if name in given and stored.get(name) != given[name]:
            fields.append(name)
    old, new = stored.get("event_data", {}), given.get("event_data", {})
    fields += [f"event_data.{k}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
    return fields or [name for name in IDENTITY_FIELDS if name in given]


def check_event_data_limits(data: EventIngest) -> None:
    """The engine's bounds of `event_data` (256 KiB as JSON, nested 32 deep), checked here so an
    event the worker would refuse is a 400 now rather than a FAILED event later."""
    try:
        check_event_data(data.event_data)
    except LimitExceeded as exc:
        raise field_error("event_data", exc.message, reason=exc.code) from None


def validate_identity(data: EventIngest) -> None:
    if (data.external_id is None) == (data.participant_id is None):
        raise field_error(
            "external_id",
            "exactly one of external_id and participant_id is required",
            reason="required" if data.external_id is None else "invalid",
        )
    if data.recipient_id is not None and data.recipient_external_id is not None:
        raise field_error("recipient_id", "at most one of recipient_id and recipient_external_id")


# Programs are never deleted (only archived), so "program P belongs to organisation O" stays true
# once seen; remembering it saves a query on every ingest. Bounded: cleared when it grows large.
_KNOWN_PROGRAMS: dict[str, str] = {}


def _check_references(principal: Principal, data: EventIngest) -> None:
    """The program and any participant named by id belong to the caller's organisation (another
    organisation's id is a 404, as for every resource). Program status and unknown external ids
    are the worker's business (D11)."""
    org = principal.organisation_id
    if _KNOWN_PROGRAMS.get(data.program_id) != org:
        if (
            not Program.select(Program.id)
            .where((Program.id == data.program_id) & (Program.organisation == org))
            .exists()
        ):
            raise NotFound("program not found", details={"field": "program_id"})
        if len(_KNOWN_PROGRAMS) > 100_000:
            _KNOWN_PROGRAMS.clear()
        _KNOWN_PROGRAMS[data.program_id] = org
    for field in ("participant_id", "recipient_id"):
        value = getattr(data, field)
        if (
            value is not None
            and not Participant.select(Participant.id)
            .where((Participant.id == value) & (Participant.organisation == org))
            .exists()
        ):
            raise NotFound("participant not found", details={"field": field})


# The ingest hot path runs two statements per event. Their SQL text is built once per parameter
# style ("?" on SQLite, "%s" on PostgreSQL) and reused: peewee's query builder would build it again
# on every call, which costs more than running it.
_SQL: dict[tuple[str, str], str] = {}


def _sql(name: str) -> str:
    param = database_proxy.obj.param
    text = _SQL.get((param, name))
    if text is None:
        fields = EventRecord._meta.sorted_fields
        _SQL[param, "find"] = (
            f'SELECT "id", "payload_hash" FROM "event" WHERE "program_id" = {param} AND "idempotency_key" = {param}'
        )
        _SQL[param, "insert"] = (
            f'INSERT INTO "event" ({", ".join(chr(34) + f.column_name + chr(34) for f in fields)}) '
            f"VALUES ({', '.join([param] * len(fields))})"
        )
        text = _SQL[param, name]
    return text


def _insert(row: EventRecord) -> None:
    values = [field.db_value(row.__data__.get(field.name)) for field in EventRecord._meta.sorted_fields]
    database_proxy.execute_sql(_sql("insert"), values)


def _existing(data: EventIngest, digest: str, given: dict[str, Any]) -> EventRecord | None:
    found = database_proxy.execute_sql(_sql("find"), (data.program_id, data.idempotency_key)).fetchone()
    if found is None:
        return None
    row = EventRecord.get_by_id(found[0])
    if row.payload_hash != digest:
        fields = differing_fields(_stored_payload(row), given)
        raise IdempotencyConflict(
            f"idempotency_key {data.idempotency_key!r} was used with a different payload "
            f"(differs in: {', '.join(fields)})",
            details={"idempotency_key": data.idempotency_key, "event_id": row.id, "fields": fields},
        )
    return row


def ingest_event(principal: Principal, data: EventIngest) -> tuple[EventRecord, bool]:
    """Store and enqueue one event, or return the original for a replay: `(row, created)`.

    Must run with a connection open (`with_connection`). Example:
    `row, created = ingest_event(principal, EventIngest(program_id=..., external_id="u1", ...))`
    """
    validate_identity(data)
    check_event_data_limits(data)
    given = normalised_payload(data)
    digest = payload_hash(given)
    _check_references(principal, data)
    check_at_ingest(data.program_id, data.event_data)
    try:
        with write_transaction():
            row = _existing(data, digest, given)
            if row is not None:
                return row, False
            # SQLite's write lock (BEGIN IMMEDIATE) makes the check above final; on PostgreSQL a
            # concurrent insert can still win, and a savepoint keeps that from aborting the transaction.
            with unique_insert(savepoint=is_postgres()):
                now = utcnow()
                row = EventRecord(
                    id=new_id(),
                    organisation=principal.organisation_id,
                    program=data.program_id,
                    participant=data.participant_id,
                    external_id=data.external_id,
                    recipient=data.recipient_id,
                    recipient_external_id=data.recipient_external_id,
                    idempotency_key=data.idempotency_key,
                    payload_hash=digest,
                    event_data=data.event_data,
                    event_timestamp=data.event_timestamp,
                    created_at=now,
                    updated_at=now,
                )
                lane = lane_of(row)
                lock_lanes([lane])  # PostgreSQL: a worker finishing this lane waits for our commit
                awake = lane_is_awake(lane, now)
                _insert(row)
                if not awake:
                    enqueue_event(row.id)
            return row, True
    except Duplicate:
        # Another process inserted the same key between our check and our insert.
        row = _existing(data, digest, given)
        if row is None:
            raise BadRequest("the event references a row that no longer exists") from None
        return row, False
