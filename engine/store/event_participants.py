"""The participants an event names, resolved once before it is evaluated (D11, D17): by external
id, created when the program's `on_unknown_participant` is CREATE (REJECT: `unknown_participant`),
and enrolled in the program, an inactive enrolment reactivated. A SYSTEM event that names no
participant belongs to its program alone (A220).

    record, known, created = resolve_event_participants(record, program)
"""

from __future__ import annotations

from engine.store import participants, statements
from engine.store.db import database_proxy, write_transaction
from engine.store.errors import NotFound
from engine.store.followups import SYSTEM_EVENT
from engine.store.models import EventRecord, Participant, Program


def is_program_event(record: EventRecord) -> bool:
    """Whether the event belongs to its program and no participant: a SYSTEM event naming none."""
    return (
        record.event_type == SYSTEM_EVENT
        and record.participant_id is None
        and not record.external_id
        and record.recipient_id is None
        and not record.recipient_external_id
    )


def resolve_event_participants(
    record: EventRecord, program: Program, *, persist: bool = True
) -> tuple[EventRecord, dict[str, Participant], list[Participant]]:
    """The event with its participant ids filled in, the participants resolved on the way (by id,
    so the caller need not read them again), and those of them this event created. Every
    participant the event names, by external id or by id, ends enrolled in the program: naming a
    participant either way enrols it, or reactivates its inactive enrolment. `persist=False`: the
    ids are filled in on `record` only, for a caller that writes them with the event's outcome
    (one statement fewer on the event's row)."""
    # The external ids still to resolve (None or empty: the id is known, or none is named).
    participant_name = record.external_id if record.participant_id is None else None
    recipient_name = record.recipient_external_id if record.recipient_id is None else None
    if not (participant_name or recipient_name):
        if is_program_event(record):
            return record, {}, []
        if record.participant_id is None:
            raise NotFound(f"event {record.id} names no participant", code="unknown_participant")
        _enrol_named([record.participant_id, record.recipient_id], program.id)
        return record, {}, []
    known: dict[str, Participant] = {}
    created: list[Participant] = []
    with write_transaction():
        changes = {}
        for external_id, field_name in ((participant_name, "participant"), (recipient_name, "recipient")):
            if not external_id:
                _enrol_named([getattr(record, f"{field_name}_id")], program.id)
                continue
            person, new = _resolve(program, external_id)
            known[person.id] = person
            if new:
                created.append(person)
            changes[field_name] = person.id
            setattr(record, f"{field_name}_id", person.id)
        if persist:
            statements.update(EventRecord, record.id, **changes)
    return record, known, created


def _enrol_named(participant_ids: list[str | None], program_id: str) -> None:
    """Enrol the participants an event names by id (one read when they are enrolled already)."""
    for participant_id in participant_ids:
        if participant_id is None:
            continue
        found = statements.rows(
            "SELECT status FROM enrolment WHERE participant_id = {p} AND program_id = {p}",
            [participant_id, program_id],
            (str,),
        )
        if not found or found[0][0] != "ACTIVE":
            participants.enrol(participant_id, program_id)


def _resolve(program: Program, external_id: str) -> tuple[Participant, bool]:
    """The participant named `external_id`, enrolled in the program: one joined read when it
    exists and is enrolled already, which is every event of a participant but the first."""
    # fetch_joined fills `{p}` in the WHERE text only: the join's placeholder is the driver's own.
    join = f"LEFT JOIN enrolment AS e ON e.participant_id = t.id AND e.program_id = {database_proxy.obj.param}"
    found = statements.fetch_joined(
        Participant,
        join,
        ("e.status",),
        "t.organisation_id = {p} AND t.external_id = {p}",
        [program.id, program.organisation_id, external_id],
    )
    if not found and program.on_unknown_participant == "REJECT":
        raise NotFound(
            f"participant {external_id!r} does not exist and the program rejects unknown participants",
            code="unknown_participant",
            external_id=external_id,
        )
    if not found:
        return participants.create_enrolled(program.organisation_id, program.id, external_id)
    person, (enrolment,) = found[0]
    if enrolment != "ACTIVE":
        participants.enrol(person.id, program.id)
    return person, False
