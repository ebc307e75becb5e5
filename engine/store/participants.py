"""Participants: upsert by external id, enrolment, status.

participant, created = upsert_participant(org.id, "user-123", program_id=program.id,
                                          profile={"email": "a@example.com"}, tags=["vip"])
"""

from __future__ import annotations

from typing import Any

from engine.store import lookups, owner_state, statements
from engine.store.db import new_id, unique_insert, utcnow, write_transaction
from engine.store.errors import Duplicate, LedgerRejected
from engine.store.models import PARTICIPANT, Enrolment, Participant

PROFILE_FIELDS = ("email", "phone", "first_name", "last_name", "display_name")
STATUSES = ("ACTIVE", "SUSPENDED", "CLOSED")


def upsert_participant(
    organisation_id: str,
    external_id: str,
    *,
    program_id: str | None = None,
    status: str | None = None,
    profile: dict[str, Any] | None = None,
    attributes: dict[str, str] | None = None,
    tags: list[str] | None = None,
    api_key_id: str | None = None,
) -> tuple[Participant, bool]:
    """Create the participant or update the existing one with this `external_id`; enrol it in
    `program_id` when given. Returns (participant, created). Attributes merge, tags add."""
    profile = profile or {}
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise LedgerRejected(f"unknown profile fields {sorted(unknown)}", code="bad_request")
    if status is not None and status not in STATUSES:
        raise LedgerRejected(f"status must be one of {STATUSES}", code="bad_request")
    with write_transaction():
        if program_id is not None:
            lookups.program(organisation_id, program_id)
        person, created = _find_or_create(organisation_id, external_id, status, profile)
        if not created and (profile or status):
            for name, value in profile.items():
                setattr(person, name, value or None)  # "" clears the field, as in Scrip's API
            if status is not None:
                person.status = status
            person.save()
        origin = owner_state.Origin(api_key_id=api_key_id)
        history = owner_state.HistoryBuffer()
        for key, value in (attributes or {}).items():
            owner_state.set_attribute(organisation_id, PARTICIPANT, person.id, key, value, origin, history)
        for tag in tags or []:
            owner_state.add_tag(organisation_id, PARTICIPANT, person.id, tag, origin, history)
        history.flush()
        if program_id is not None:
            enrol(person.id, program_id)
        return person, created


def create_enrolled(organisation_id: str, program_id: str, external_id: str) -> tuple[Participant, bool]:
    """The participant named `external_id`, created ACTIVE when missing and enrolled in the
    program (a new participant has no enrolment yet): the worker's `on_unknown_participant:
    CREATE`, inside the event's transaction, which has already checked the program. Its
    statements are built once (`statements`), since the worker runs them for every new participant.
    Returns (participant, created); a participant created meanwhile by another writer is found."""
    now = utcnow()
    created = (
        statements.insert(
            Participant,
            [
                {
                    "id": new_id(),
                    "created_at": now,
                    "updated_at": now,
                    "organisation": organisation_id,
                    "external_id": external_id,
                    "status": "ACTIVE",
                }
            ],
            ignore_conflicts=True,
        )
        == 1
    )
    person = statements.fetch(
        Participant, "organisation_id = {p} AND external_id = {p}", [organisation_id, external_id]
    )[0]
    if not created:
        enrol(person.id, program_id)
        return person, False
    statements.insert(
        Enrolment,
        [{"id": new_id(), "participant": person.id, "program": program_id, "status": "ACTIVE", "created_at": now}],
    )
    return person, True


def _find_or_create(organisation_id, external_id, status, profile) -> tuple[Participant, bool]:
    found = Participant.get_or_none(
        (Participant.organisation == organisation_id) & (Participant.external_id == external_id)
    )
    if found is not None:
        return found, False
    try:
        with unique_insert():
            return Participant.create(
                organisation=organisation_id, external_id=external_id, status=status or "ACTIVE", **profile
            ), True
    except Duplicate:
        return Participant.get(
            (Participant.organisation == organisation_id) & (Participant.external_id == external_id)
        ), False


def enrol(participant_id: str, program_id: str) -> None:
    """Enrol (or reactivate the enrolment of) a participant in a program."""
    Enrolment.insert(participant=participant_id, program=program_id, status="ACTIVE", created_at=utcnow()).on_conflict(
        conflict_target=[Enrolment.participant, Enrolment.program], update={Enrolment.status: "ACTIVE"}
    ).execute()


def set_status(organisation_id: str, participant_id: str, status: str) -> Participant:
    if status not in STATUSES:
        raise LedgerRejected(f"status must be one of {STATUSES}", code="bad_request")
    with write_transaction():
        person = lookups.participant(organisation_id, participant_id)
        person.status = status
        person.save()
        return person
