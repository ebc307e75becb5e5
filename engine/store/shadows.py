"""A program's shadow rulesets as rows (A230): applied (the next version, ending the ACTIVE one),
cleared, promoted; and their evaluations, written once per event and shadow whoever writes them,
read back a page or a stream at a time. Nothing here touches the ledger or participant state.

    shadow = set_shadow(org_id, program_id, bundle_data, rule_count=3)
    inserted = record_evaluations([...])      # a second write of the same (event, shadow) is skipped
    for row in evaluation_stream(shadow.id): ...
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from engine.store import lookups
from engine.store.db import is_postgres, unique_insert, utcnow, write_transaction
from engine.store.errors import Conflict, Duplicate, NotFound
from engine.store.models import (
    SHADOW_ACTIVE,
    SHADOW_CLEARED,
    EventRecord,
    Program,
    ShadowEvaluation,
    ShadowRuleset,
)

STREAM_PAGE = 500  # evaluations read per query when a report folds them


def set_shadow(organisation_id: str, program_id: str, bundle: dict[str, Any], *, rule_count: int) -> ShadowRuleset:
    """Make `bundle` (plain data) the program's ACTIVE shadow, replacing the one it had; the live
    rules are not touched. Concurrent applies get distinct versions, or `shadow_conflict`."""
    with write_transaction():
        program = _locked_program(organisation_id, program_id)
        _end_active(program.id, SHADOW_CLEARED)
        latest = ShadowRuleset.select(ShadowRuleset.version).where(ShadowRuleset.program == program.id)
        version = max((row.version for row in latest), default=0) + 1
        try:
            with unique_insert():
                shadow = ShadowRuleset.create(
                    organisation=organisation_id,
                    program=program.id,
                    version=version,
                    bundle=bundle,
                    rule_count=rule_count,
                )
        except Duplicate as exc:
            raise Conflict("another shadow was applied at the same moment", code="shadow_conflict") from exc
        Program.update(shadow_id=shadow.id).where(Program.id == program.id).execute()
    return shadow


def clear_shadow(organisation_id: str, program_id: str) -> ShadowRuleset:
    """End the program's ACTIVE shadow (CLEARED); `shadow_not_found` when it has none."""
    with write_transaction():
        program = _locked_program(organisation_id, program_id)
        ended = _end_active(program.id, SHADOW_CLEARED)
        if ended is None:
            raise NotFound(f"program {program_id} has no shadow", code="shadow_not_found", resource="shadow")
    return ended


def end_shadow(shadow: ShadowRuleset, status: str) -> None:
    """End `shadow` (PROMOTED or CLEARED) in the caller's transaction, unless it has ended."""
    _end_active(shadow.program_id, status, only=shadow.id)


def active_shadow(organisation_id: str, program_id: str, *, lock: bool = False) -> ShadowRuleset:
    """The program's ACTIVE shadow (`lock`: its program row locked first); `shadow_not_found`."""
    program = _locked_program(organisation_id, program_id) if lock else lookups.program(organisation_id, program_id)
    found = ShadowRuleset.get_or_none((ShadowRuleset.program == program.id) & (ShadowRuleset.status == SHADOW_ACTIVE))
    if found is None:
        raise NotFound(f"program {program_id} has no shadow", code="shadow_not_found", resource="shadow")
    return found


def shadow_version(organisation_id: str, program_id: str, version: int | None = None) -> ShadowRuleset:
    """A shadow of the program by version, or the latest one (ACTIVE or ended)."""
    program = lookups.program(organisation_id, program_id)
    query = ShadowRuleset.select().where(ShadowRuleset.program == program.id)
    if version is not None:
        query = query.where(ShadowRuleset.version == version)
    found = query.order_by(ShadowRuleset.version.desc()).first()
    if found is None:
        which = f"version {version}" if version is not None else "a shadow"
        raise NotFound(f"program {program_id} has no {which}", code="shadow_not_found", resource="shadow")
    return found


def shadow_bundle(shadow_id: str) -> tuple[str, dict[str, Any]] | None:
    """(status, bundle as plain data) of a shadow, for the worker's compiled cache."""
    found = ShadowRuleset.select(ShadowRuleset.status, ShadowRuleset.bundle).where(ShadowRuleset.id == shadow_id)
    row = found.first()
    return None if row is None else (row.status, row.bundle)


def record_evaluations(rows: list[dict[str, Any]]) -> int:
    """Insert shadow evaluations (the fields of `ShadowEvaluation`) in one transaction; one
    already written for its (event, shadow) is skipped. Returns how many were inserted."""
    inserted = 0
    with write_transaction():
        for row in rows:
            try:
                with unique_insert():
                    ShadowEvaluation.create(**row)
            except Duplicate:
                continue
            inserted += 1
    return inserted


def evaluation_page(shadow_id: str, *, differs: bool | None, after: str | None, limit: int) -> list[ShadowEvaluation]:
    """A page of the shadow's evaluations in event processing order (by id), after cursor `after`."""
    query = ShadowEvaluation.select().where(ShadowEvaluation.shadow == shadow_id)
    if differs is not None:
        query = query.where(ShadowEvaluation.differs == differs)
    if after:
        query = query.where(ShadowEvaluation.id > after)
    return list(query.order_by(ShadowEvaluation.id).limit(limit))


def evaluation_stream(shadow_id: str) -> Iterator[dict[str, Any]]:
    """Every evaluation of the shadow as plain data, read a page at a time."""
    after: str | None = None
    while True:
        page = evaluation_page(shadow_id, differs=None, after=after, limit=STREAM_PAGE)
        for row in page:
            yield evaluation_data(row)
        if len(page) < STREAM_PAGE:
            return
        after = page[-1].id


def evaluation_data(row: ShadowEvaluation) -> dict[str, Any]:
    return {
        "event_id": row.event_id,
        "participant_id": row.participant_id,
        "status": row.status,
        "live": row.live,
        "shadowed": row.shadowed,
        "live_flows": row.live_flows,
        "shadow_flows": row.shadow_flows,
        "differs": row.differs,
        "created_at": row.created_at,
    }


def events_processed(program_id: str, since: datetime, until: datetime | None) -> int:
    """Events of the program that finished processing in [since, until): what the shadow saw at
    most (an event that failed before it was evaluated has no shadow evaluation)."""
    query = EventRecord.select().where((EventRecord.program == program_id) & (EventRecord.processed_at >= since))
    if until is not None:
        query = query.where(EventRecord.processed_at < until)
    return query.count()


def _locked_program(organisation_id: str, program_id: str) -> Program:
    """The program's row, locked on PostgreSQL (SQLite's write transaction holds the database)."""
    program = lookups.program(organisation_id, program_id)
    if is_postgres():
        Program.select(Program.id).where(Program.id == program.id).for_update().execute()
    return program


def _end_active(program_id: str, status: str, *, only: str | None = None) -> ShadowRuleset | None:
    """End the program's ACTIVE shadow (`only`: if it is that one) and clear the program's pointer."""
    query = ShadowRuleset.select().where(
        (ShadowRuleset.program == program_id) & (ShadowRuleset.status == SHADOW_ACTIVE)
    )
    if only is not None:
        query = query.where(ShadowRuleset.id == only)
    found = query.first()
    if found is None:
        return None
    now = utcnow()
    ShadowRuleset.update(status=status, ended_at=now, updated_at=now).where(ShadowRuleset.id == found.id).execute()
    Program.update(shadow_id=None).where(Program.id == program_id).execute()
    found.status, found.ended_at = status, now
    return found
