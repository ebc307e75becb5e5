from __future__ import annotations

import pytest

from engine.store.errors import LedgerRejected, NotFound
from engine.store.models import Enrolment, Participant
from engine.store.participants import set_status, upsert_participant
from engine.store.state import load_entity_state


def test_upsert_creates_then_updates_by_external_id(world):
    person, created = upsert_participant(world.org.id, "carol", program_id=world.program.id,
                                         profile={"email": "c@example.com"}, tags=["New"], attributes={"a": "1"})
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
