from __future__ import annotations

import pytest

from engine.store.db import write_transaction
from engine.store.errors import LedgerRejected, NotFound
from engine.store.models import Enrolment, Participant
from engine.store.owner_state import load_entity_state
from engine.store.participants import create_enrolled, set_status, upsert_participant


def test_upsert_creates_then_updates_by_external_id(world):
    person, created = upsert_participant(
        world.org.id,
        "carol",
        program_id=world.program.id,
        profile={"email": "c@example.com"},
        tags=["New"],
        attributes={"a": "1"},
    )
    assert created and person.email == "c@example.com"
    again, created = upsert_participant(world.org.id, "carol", profile={"email": ""}, tags=["more"])
    assert not created and again.id == person.id and again.email is None
    assert load_entity_state("PARTICIPANT", person.id)[0] == ["more", "new"]
    assert Enrolment.select().where(Enrolment.participant == person.id).count() == 1
    assert set_status(world.org.id, person.id, "CLOSED").status == "CLOSED"


def test_bad_input_is_refused(world):
    with pytest.raises(LedgerRejected):
        upsert_participant(world.org.id, "x", profile={"shoe_size": "9"})
    with pytest.raises(LedgerRejected):
        set_status(world.org.id, world.alice.id, "GONE")
    with pytest.raises(NotFound):
        upsert_participant(world.org.id, "x", program_id="nope")
    assert Participant.select().where(Participant.external_id == "x").count() == 0


def enrolments_of(person) -> list[tuple[str, str]]:
    return [(e.program_id, e.status) for e in Enrolment.select().where(Enrolment.participant == person.id)]


def test_create_enrolled_creates_an_active_participant_enrolled_in_the_program(world):
    with write_transaction():
        person, created = create_enrolled(world.org.id, world.program.id, "dora")
    assert created and (person.external_id, person.status, person.organisation_id) == ("dora", "ACTIVE", world.org.id)
    assert person.created_at is not None and person.created_at == person.updated_at
    assert enrolments_of(person) == [(world.program.id, "ACTIVE")]


def test_create_enrolled_finds_a_participant_created_meanwhile_and_enrols_it(world):
    existing, _ = upsert_participant(world.org.id, "erin")  # not enrolled anywhere
    with write_transaction():
        person, created = create_enrolled(world.org.id, world.program.id, "erin")
    assert not created and person.id == existing.id
    assert enrolments_of(person) == [(world.program.id, "ACTIVE")]
    assert Participant.select().where(Participant.external_id == "erin").count() == 1
