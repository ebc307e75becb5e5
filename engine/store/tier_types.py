"""Tier types as stored rows: a program's tier types (levels, qualification, benefits, lifecycle),
created, patched (levels upserted by key) and archived one way, and read back as the bundle's
`TierType`. Every change marks the program's compiled form stale.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

import msgspec

from engine.model.bundle import TierType
from engine.model.calendar import zone
from engine.model.lifecycle import lifecycle_problems
from engine.model.qualification_periods import next_boundary
from engine.model.tier_lifecycle import rolls_over
from engine.store import lookups, statements
from engine.store.db import new_id, unique_insert, utcnow, write_transaction
from engine.store.errors import Conflict, Duplicate, LedgerRejected
from engine.store.models import GROUP, PARTICIPANT, Group, GroupTier, ParticipantTier, Program, TierTypeRecord
from engine.store.programs import touch_program
from engine.store.tier_holders import HOLDERS


def create_tier_type(organisation_id: str, program_id: str, spec: TierType) -> TierTypeRecord:
    """Store a tier type; its key is unique in the program (`Conflict` `tier_exists`),
    level keys and ranks unique in the tier (`Conflict` `tier_level_conflict`).

    Example: `create_tier_type(org.id, program.id, TierType(key="status", levels=[...])).key == "status"`."""
    _check_levels(spec)
    with write_transaction():
        program = lookups.program(organisation_id, program_id)
        archived = spec.status == "ARCHIVED"
        try:
            with unique_insert():
                row = TierTypeRecord.create(
                    organisation=organisation_id,
                    program=program.id,
                    key=spec.key,
                    definition=_definition(spec),
                    status=spec.status,
                    archived_at=utcnow() if archived else None,
                )
        except Duplicate:
            raise Conflict(f"tier type {spec.key} exists in this program", code="tier_exists") from None
        touch_program(program.id)
        schedule_rollovers(row, spec, row.created_at)
        return row


def get_tier_type(organisation_id: str, program_id: str, key: str) -> TierTypeRecord:
    """The program's tier type `key`, archived or not; `NotFound` in another organisation."""
    lookups.program(organisation_id, program_id)
    row = TierTypeRecord.get_or_none(
        (TierTypeRecord.organisation == organisation_id)
        & (TierTypeRecord.program == program_id)
        & (TierTypeRecord.key == key)
    )
    if row is None:
        raise lookups.NotFound(f"tier {key!r} not found in this program", resource="tier", id=key)
    return row


def update_tier_type(organisation_id: str, program_id: str, key: str, changes: dict[str, Any]) -> TierTypeRecord:
    """Change `display_name`, `lifecycle` (replaced; `{}` clears) and `levels` (upserted by key: a
    given level's fields replace the stored ones, a new key needs `rank`). Archived tiers cannot change
    (`Conflict` `tier_archived`); a level key or rank used twice is `Conflict` `tier_level_conflict`.

    Example: `update_tier_type(org, program, "status", {"levels": [{"key": "gold", "rank": 3}]})`."""
    unknown = set(changes) - {"display_name", "lifecycle", "levels"}
    if unknown:
        raise LedgerRejected(f"unknown tier fields: {sorted(unknown)}", code="bad_request")
    with write_transaction():
        row = get_tier_type(organisation_id, program_id, key)
        if row.status == "ARCHIVED":
            raise Conflict(f"tier {key!r} is archived and cannot be modified", code="tier_archived")
        current = msgspec.to_builtins(tier_to_bundle(row))
        merged = current | {k: v for k, v in changes.items() if k != "levels"}
        merged["levels"] = _upsert_levels(current["levels"], changes.get("levels", []))
        try:
            spec = msgspec.convert(merged, TierType)
        except msgspec.ValidationError as exc:
            raise LedgerRejected(f"invalid tier: {exc}", code="bad_request") from exc
        _check_levels(spec)
        before = tier_to_bundle(row)
        if spec != before:
            row.definition = _definition(spec)
            row.updated_at = utcnow()
            row.save()
            touch_program(row.program_id)
        if spec.lifecycle != before.lifecycle:
            # every level is due now, so the scheduler brings its schedule to the new lifecycle (A132)
            # (an archived group's levels stay unscheduled, A259)
            ParticipantTier.update(due_at=utcnow()).where(ParticipantTier.tier_type == row.id).execute()
            active = GroupTier.group.in_(Group.select(Group.id).where(Group.status == "ACTIVE"))
            GroupTier.update(due_at=utcnow()).where((GroupTier.tier_type == row.id) & active).execute()
            schedule_rollovers(row, spec, utcnow())
        return row


def archive_tier_type(organisation_id: str, program_id: str, key: str) -> TierTypeRecord:
    """Archive a tier type, one way: participants keep their levels, SET_TIER on it is
    skipped, it no longer auto-qualifies. Already archived: `Conflict` `tier_archived`."""
    with write_transaction():
        row = get_tier_type(organisation_id, program_id, key)
        if row.status == "ARCHIVED":
            raise Conflict(f"tier {key!r} is already archived", code="tier_archived")
        row.status, row.archived_at, row.updated_at = "ARCHIVED", utcnow(), utcnow()
        row.save()
        touch_program(row.program_id)
        return row


def tier_to_bundle(record: TierTypeRecord) -> TierType:
    """The stored tier type as `engine.model.bundle.TierType`, with the row's status. A lifecycle
    stored before lifecycles were checked that does not fit one runs as none, a rules-only tier,
    until it is replaced (A125): refusing it would stop the program from compiling."""
    definition = record.definition
    try:
        spec = msgspec.convert(definition, TierType)
    except msgspec.ValidationError:
        if not isinstance(definition, dict) or "lifecycle" not in definition:
            raise
        spec = msgspec.convert({**definition, "lifecycle": {}}, TierType)
    return msgspec.structs.replace(spec, status=record.status)


def program_zone(program_id: str) -> tzinfo:
    """The program's time zone (D32); UTC for a name this Python no longer knows."""
    name = Program.select(Program.timezone).where(Program.id == program_id).scalar() or "UTC"
    try:
        return zone(name)
    except ValueError:
        return zone("UTC")


def schedule_rollovers(
    record: TierTypeRecord, spec: TierType, at: datetime, owner_types: tuple[str, ...] = (PARTICIPANT, GROUP)
) -> int:
    """Schedule the rollover (A215) of every enrolled member (and every ACTIVE group of the
    organisation, A257) who has a qualifying counter of the tier and no level of it, at the first
    period end after `at`: the owners whose counters were written before the tier (or its
    lifecycle) started rolling them over. Owners scheduled already keep their period end. Returns
    how many were scheduled now. `owner_types` limits it to the owners a schema step knows of."""
    if not rolls_over(spec) or spec.lifecycle.qualification_period is None:
        return 0
    keys = spec.lifecycle.qualifying
    due = next_boundary(spec.lifecycle.qualification_period, at, program_zone(record.program_id))
    owners = {
        PARTICIPANT: ("JOIN enrolment AS e ON e.participant_id = c.owner_id AND e.program_id = {p}", record.program_id),
        GROUP: (
            "JOIN \"group\" AS g ON g.id = c.owner_id AND g.organisation_id = {p} AND g.status = 'ACTIVE'",
            record.organisation_id,
        ),
    }
    scheduled = 0
    for owner_type in owner_types:
        join, scope = owners[owner_type]
        holder = HOLDERS[owner_type]
        found = statements.rows(
            f"SELECT DISTINCT c.owner_id FROM state_counter AS c {join} "
            f"WHERE c.owner_type = {{p}} AND c.key IN ({statements.marks(len(keys))}) "
            f"AND NOT EXISTS (SELECT 1 FROM {holder.levels._meta.table_name} AS t "
            f"WHERE t.{holder.column} = c.owner_id AND t.tier_type_id = {{p}})",
            [scope, owner_type, *keys, record.id],
            (str,),
        )
        for start in range(0, len(found), 200):
            rows = [
                {
                    "id": new_id(),
                    "organisation": record.organisation_id,
                    holder.field: owner_id,
                    "program": record.program_id,
                    "tier_type": record.id,
                    "tier_key": record.key,
                    "period_ends_at": due,
                }
                for (owner_id,) in found[start : start + 200]
            ]
            scheduled += statements.insert(holder.rollovers, rows, ignore_conflicts=True)
    return scheduled


def _definition(spec: TierType) -> dict[str, Any]:
    definition = msgspec.to_builtins(spec)
    definition.pop("status", None)  # the row's column is the one truth
    return definition


def _upsert_levels(current: list[dict[str, Any]], given: list[dict[str, Any]]) -> list[dict[str, Any]]:
    levels = {level["key"]: dict(level) for level in current}
    for change in given:
        if change.get("key") not in levels and change.get("rank") is None:
            raise LedgerRejected(f"new level {change.get('key')!r} needs a rank", code="bad_request", field="levels")
        update = {k: v for k, v in change.items() if v is not None}
        levels[change["key"]] = levels.get(change["key"], {}) | update
    return list(levels.values())


def check_tier_type(spec: TierType) -> None:
    """What storing `spec` would refuse, without storing it (`Conflict` or `LedgerRejected`)."""
    _check_levels(spec)


def _check_levels(spec: TierType) -> None:
    """Level keys and ranks used once; a lifecycle whose fields agree with each other and the levels."""
    for problem in lifecycle_problems(spec.lifecycle, (level.key for level in spec.levels)):
        field = ".".join(str(part) for part in ("lifecycle", *problem.path))
        raise LedgerRejected(f"tier {spec.key!r}: {field}: {problem.message}", code="bad_request", field=field)
    for what in ("key", "rank"):
        values = [getattr(level, what) for level in spec.levels]
        repeated = sorted({v for v in values if values.count(v) > 1}, key=str)
        if repeated:
            raise Conflict(
                f"tier {spec.key!r}: level {what} {repeated[0]!r} is used more than once",
                code="tier_level_conflict",
                field=f"levels.{what}",
            )
