"""Organisation-scoped lookups that raise `NotFound` (another organisation's id is simply not
found, D23) or `Conflict`, shared by the ledger, the effects and the API."""

from __future__ import annotations

from engine.store.errors import Conflict, LedgerRejected, NotFound
from engine.store.models import Asset, Participant, Program, ProgramAsset


def program(organisation_id: str, program_id: str) -> Program:
    row = Program.get_or_none((Program.id == program_id) & (Program.organisation == organisation_id))
    if row is None:
        raise NotFound(f"program {program_id} not found", resource="program", id=program_id)
    return row


def participant(organisation_id: str, participant_id: str) -> Participant:
    row = Participant.get_or_none((Participant.id == participant_id) & (Participant.organisation == organisation_id))
    if row is None:
        raise NotFound(f"participant {participant_id} not found", resource="participant", id=participant_id)
    return row


def asset(organisation_id: str, asset_ref: str) -> Asset:
    """An asset by id or by symbol (the API accepts either, D28)."""
    row = Asset.get_or_none(
        (Asset.organisation == organisation_id) & ((Asset.id == asset_ref) | (Asset.symbol == asset_ref))
    )
    if row is None:
        raise NotFound(f"asset {asset_ref} not found", resource="asset", id=asset_ref)
    return row


def linked_asset(organisation_id: str, program_id: str, asset_ref: str) -> Asset:
    """An asset that is linked to the program (ledger entries of a program need the link)."""
    found = asset(organisation_id, asset_ref)
    link = ProgramAsset.get_or_none((ProgramAsset.program == program_id) & (ProgramAsset.asset == found.id))
    if link is None:
        raise LedgerRejected(f"asset {found.symbol} is not linked to program {program_id}", code="asset_not_linked")
    return found


def require_status(row: Participant, allowed: tuple[str, ...], action: str) -> None:
    if row.status not in allowed:
        raise Conflict(
            f"participant {row.id} is {row.status}; {action} needs {' or '.join(allowed)}",
            code="participant_inactive",
            status=row.status,
        )
