"""Where a program's redeemed value goes: `redemption_target_type` SYSTEM_REDEMPTION (the default),
SYSTEM_BREAKAGE, or LEDGER_ENTITY with `redemption_target_id` naming a participant or a program
(its wallet) of the organisation, such as the partner who honours the rewards.

    kind, entity = target_of(program)      # ("SYSTEM_REDEMPTION", Entity("SYSTEM", "SYSTEM_REDEMPTION"))
"""

from __future__ import annotations

from engine.store.errors import LedgerRejected, NotFound
from engine.store.ledger.moves import Entity, system
from engine.store.models import PARTICIPANT, PROGRAM, SYSTEM_BREAKAGE, SYSTEM_REDEMPTION, Participant, Program

TARGET_TYPES = (SYSTEM_REDEMPTION, SYSTEM_BREAKAGE, "LEDGER_ENTITY")


def target_of(program: Program) -> tuple[str, Entity]:
    """The program's redemption target now: its type and the ledger entity that receives value."""
    kind = program.redemption_target_type
    if kind == "LEDGER_ENTITY" and program.redemption_target_id:
        return kind, entity_of(program.organisation_id, program.redemption_target_id)
    if kind == SYSTEM_BREAKAGE:
        return kind, system(SYSTEM_BREAKAGE)
    return SYSTEM_REDEMPTION, system(SYSTEM_REDEMPTION)


def entity_of(organisation_id: str, entity_id: str) -> Entity:
    """A ledger entity of the organisation named by id: a participant, or a program's wallet;
    `NotFound` for anything else (groups join when they exist)."""
    if (
        Participant.select()
        .where((Participant.id == entity_id) & (Participant.organisation == organisation_id))
        .exists()
    ):
        return Entity(PARTICIPANT, entity_id)
    if Program.select().where((Program.id == entity_id) & (Program.organisation == organisation_id)).exists():
        return Entity(PROGRAM, entity_id)
    raise NotFound(
        f"ledger entity {entity_id} not found: a redemption target is a participant or a program",
        resource="ledger_entity",
        id=entity_id,
    )


def check_target(organisation_id: str, kind: str, entity_id: str | None) -> None:
    """A target as a program patch sets it: LEDGER_ENTITY needs an entity of the organisation, the
    SYSTEM_* targets none."""
    if kind not in TARGET_TYPES:
        raise LedgerRejected(f"redemption_target_type must be one of {', '.join(TARGET_TYPES)}", code="bad_request")
    if kind == "LEDGER_ENTITY":
        if not entity_id:
            raise LedgerRejected("LEDGER_ENTITY needs redemption_target_entity_id", code="bad_request")
        entity_of(organisation_id, entity_id)
