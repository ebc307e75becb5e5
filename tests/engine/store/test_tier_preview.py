"""The preview over a program's members: paged, counted per tier, limited, lapsed levels left out,
nothing written."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import msgspec

from engine.model.bundle import TierType
from engine.store import owner_state, tier_preview
from engine.store.db import utcnow, write_transaction
from engine.store.models import Enrolment, Participant, ParticipantTier, StateHistory
from engine.store.tier_types import create_tier_type

LEVELS = [
    {
        "key": "silver",
        "rank": 1,
        "qualification": {"criteria": [{"counter": "miles", "operator": ">=", "threshold": 100}]},
    },
    {
        "key": "gold",
        "rank": 2,
        "qualification": {"criteria": [{"counter": "miles", "operator": ">=", "threshold": 200}]},
    },
]


def spec(gold_at: int = 200) -> TierType:
    levels = [
        LEVELS[0],
        {
            **LEVELS[1],
            "qualification": {"criteria": [{**LEVELS[1]["qualification"]["criteria"][0], "threshold": gold_at}]},
        },
    ]
    return msgspec.convert({"key": "status", "levels": levels}, TierType)


def member(world, name: str, miles: int, level: str | None = None, expires_at=None) -> Participant:
    person = Participant.create(organisation=world.org, external_id=name)
    Enrolment.create(participant=person, program=world.program)
    with write_transaction():
        origin = owner_state.Origin(program_id=world.program.id)
        owner_state.set_counter(world.org.id, "PARTICIPANT", person.id, "miles", Decimal(miles), origin)
        if level is not None:
            tier = world.tier
            rank = 2 if level == "gold" else 1
            owner_state.set_tier(
                world.org.id, person.id, tier, level, rank, origin, reason="API", expires_at=expires_at
            )
    return person


def test_the_preview_pages_through_members_counts_per_tier_and_writes_nothing(world, monkeypatch):
    monkeypatch.setattr(tier_preview, "PAGE", 2)
    world.tier = create_tier_type(world.org.id, world.program.id, spec())
    member(world, "a", 250, "gold")  # gold at 300 now: down to silver
    member(world, "b", 150)  # earns silver: up
    member(world, "c", 350, "silver")  # earns gold: up
    member(world, "d", 50)  # nothing
    member(world, "e", 250, "gold", expires_at=utcnow() + timedelta(seconds=1))
    ParticipantTier.update(expires_at=utcnow() - timedelta(seconds=1)).where(
        ParticipantTier.level == "gold",
        ParticipantTier.participant == Participant.get(Participant.external_id == "e").id,
    ).execute()  # e's gold lapsed: e holds no level, and 250 miles earn silver at the new threshold
    history = StateHistory.select().count()
    report = tier_preview.preview_program(world.program.id, [spec(gold_at=300)], limit=3)
    assert report.members == 5
    assert report.counts == {"status": {"UP": 3, "DOWN": 1}}
    names = {p.id: p.external_id for p in Participant.select()}
    found = sorted(
        (names[m.participant_id], m.move.current_level, m.move.new_level, m.move.direction) for m in report.moves
    )
    assert len(found) == 3 and set(found) <= {
        ("a", "gold", "silver", "DOWN"),
        ("b", None, "silver", "UP"),
        ("c", "silver", "gold", "UP"),
        ("e", None, "silver", "UP"),
    }
    assert StateHistory.select().count() == history
    assert {row.level for row in ParticipantTier.select()} == {"gold", "silver"}


def test_archived_tiers_move_no_one(world):
    world.tier = create_tier_type(world.org.id, world.program.id, spec())
    member(world, "a", 150)
    archived = msgspec.structs.replace(spec(), status="ARCHIVED")
    report = tier_preview.preview_program(world.program.id, [archived])
    assert (report.members, report.counts, report.moves) == (1, {}, [])
