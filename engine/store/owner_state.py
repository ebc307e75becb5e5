"""Tags, counters, attributes and tiers of participants, groups and programs, with history
(tiers are participants' and groups', A257).

Every change writes a `state_history` row saying who made it (`Origin`: an event and rule, or an
API key). Callers run these inside their transaction; the functions are idempotent as Scrip's
API is (adding a present tag or removing a missing one changes nothing and records nothing).

    add_tag(org_id, "PARTICIPANT", p.id, "vip", Origin(api_key_id=key.id))      # -> True
    increment_counter(org_id, "PARTICIPANT", p.id, "visits", Decimal(1), origin, at=now)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.model.state import EntityState, ProgramState, TierState, counter_reset_due
from engine.store import statements, tier_rollovers, tier_standing
from engine.store.db import database_proxy, new_id, utcnow
from engine.store.fields import canonical_decimal
from engine.store.models import PARTICIPANT, ParticipantTier, StateAttribute, StateCounter, StateTag, TierTypeRecord
from engine.store.owner_reads import read_owner
from engine.store.state_records import HistoryBuffer, Origin
from engine.store.tier_holders import HOLDERS
from engine.store.tier_standing import TierMove

TAG_MAX = 255


def _owner(model, owner_type: str, owner_id: str):
    return (model.owner_type == owner_type) & (model.owner_id == owner_id)


def add_tag(org_id, owner_type, owner_id, tag: str, origin: Origin, history: HistoryBuffer | None = None) -> bool:
    """Add a tag (lower-cased); False when it was already there."""
    buffer = history if history is not None else HistoryBuffer()
    tag = tag.lower()
    inserted = statements.insert(
        StateTag,
        [
            {
                "id": new_id(),
                "organisation": org_id,
                "owner_type": owner_type,
                "owner_id": owner_id,
                "tag": tag,
                "created_at": origin.at,
            }
        ],
        ignore_conflicts=True,
    )
    if not inserted:
        return False
    buffer.record(org_id, owner_type, owner_id, "tag", tag, "add", None, tag, origin)
    if history is None:
        buffer.flush()
    return True


def remove_tag(org_id, owner_type, owner_id, tag: str, origin: Origin, history: HistoryBuffer | None = None) -> bool:
    buffer = history if history is not None else HistoryBuffer()
    tag = tag.lower()
    removed = StateTag.delete().where(_owner(StateTag, owner_type, owner_id) & (StateTag.tag == tag)).execute()
    if not removed:
        return False
    buffer.record(org_id, owner_type, owner_id, "tag", tag, "remove", tag, None, origin)
    if history is None:
        buffer.flush()
    return True


def increment_counter(
    org_id,
    owner_type,
    owner_id,
    key: str,
    by: Decimal,
    origin: Origin,
    reset_after: str | None = None,
    history: HistoryBuffer | None = None,
    at: datetime | None = None,
) -> Decimal:
    """Add `by` to a counter (creating it at 0), auto-resetting it first when `reset_after` has
    elapsed since `last_reset_at` at `at` (the event's time; default `origin.at`). Returns the new
    value. The caller holds the owner's lock (`lock_owner`)."""
    at = at or origin.at
    buffer = history if history is not None else HistoryBuffer()
    found = statements.fetch(
        StateCounter, "owner_type = {p} AND owner_id = {p} AND key = {p}", [owner_type, owner_id, key]
    )
    if found:
        value = _add_to_counter(org_id, found[0], by, reset_after, at, origin, buffer)
    else:
        statements.insert(
            StateCounter,
            [
                {
                    "id": new_id(),
                    "organisation": org_id,
                    "owner_type": owner_type,
                    "owner_id": owner_id,
                    "key": key,
                    "value": by,
                    "reset_after": reset_after,
                    "last_reset_at": at,
                    "updated_at": origin.at,
                }
            ],
        )
        buffer.record(org_id, owner_type, owner_id, "counter", key, "set", None, canonical_decimal(by), origin)
        value = by
    if history is None:
        buffer.flush()
    return value


def _add_to_counter(
    org_id: str,
    row: StateCounter,
    by: Decimal,
    reset_after: str | None,
    at: datetime,
    origin: Origin,
    buffer: HistoryBuffer,
) -> Decimal:
    """`increment_counter` on a stored counter: reset it first if it has expired at `at`, then add
    `by` and write the row; returns the new value."""
    owner_type, owner_id, key = row.owner_type, row.owner_id, row.key
    old = row.value
    if _expired(row, at):
        buffer.record(org_id, owner_type, owner_id, "counter", key, "auto_reset", canonical_decimal(old), "0", origin)
        row.value, row.last_reset_at, old = Decimal(0), at, Decimal(0)
    row.value = old + by
    if reset_after is not None and reset_after != row.reset_after:
        row.reset_after = reset_after
    row.updated_at = origin.at
    statements.update(
        StateCounter,
        row.id,
        value=row.value,
        reset_after=row.reset_after,
        last_reset_at=row.last_reset_at,
        updated_at=row.updated_at,
    )
    buffer.record(
        org_id,
        owner_type,
        owner_id,
        "counter",
        key,
        "set",
        canonical_decimal(old),
        canonical_decimal(row.value),
        origin,
    )
    return row.value


def set_counter(
    org_id,
    owner_type,
    owner_id,
    key: str,
    value: Decimal,
    origin: Origin,
    reset_after: str | None = None,
    history: HistoryBuffer | None = None,
) -> None:
    """Set a counter to an absolute value (the API's PUT); `reset_after=""` removes auto-reset,
    None leaves it unchanged. Setting restarts the reset timer. A participant's (or group's)
    qualifying counter set without a level of its tier schedules its rollover (A215)."""
    buffer = history if history is not None else HistoryBuffer()
    row = StateCounter.get_or_none(_owner(StateCounter, owner_type, owner_id) & (StateCounter.key == key))
    old = None if row is None else canonical_decimal(row.value)
    if row is None:
        row = StateCounter(organisation=org_id, owner_type=owner_type, owner_id=owner_id, key=key)
    row.value, row.last_reset_at, row.updated_at = value, origin.at, origin.at
    if reset_after is not None:
        row.reset_after = reset_after or None
    row.save(force_insert=old is None)
    buffer.record(org_id, owner_type, owner_id, "counter", key, "set", old, canonical_decimal(value), origin)
    if owner_type in HOLDERS:  # qualifying progress of a member or group without a level (A215)
        tier_rollovers.track(org_id, owner_id, [key], origin.at, owner_type=owner_type)
    if history is None:
        buffer.flush()


def delete_counter(org_id, owner_type, owner_id, key: str, origin: Origin) -> bool:
    row = StateCounter.get_or_none(_owner(StateCounter, owner_type, owner_id) & (StateCounter.key == key))
    if row is None:
        return False
    row.delete_instance()
    buffer = HistoryBuffer()
    buffer.record(org_id, owner_type, owner_id, "counter", key, "delete", canonical_decimal(row.value), None, origin)
    buffer.flush()
    return True


def set_attribute(
    org_id, owner_type, owner_id, key: str, value: str, origin: Origin, history: HistoryBuffer | None = None
) -> bool:
    """Upsert an attribute; False (and no history) when it already had this value."""
    buffer = history if history is not None else HistoryBuffer()
    row = StateAttribute.get_or_none(_owner(StateAttribute, owner_type, owner_id) & (StateAttribute.key == key))
    if row is not None and row.value == value:
        return False
    old = None if row is None else row.value
    if row is None:
        StateAttribute.create(
            organisation=org_id, owner_type=owner_type, owner_id=owner_id, key=key, value=value, updated_at=origin.at
        )
    else:
        StateAttribute.update(value=value, updated_at=origin.at).where(StateAttribute.id == row.id).execute()
    buffer.record(org_id, owner_type, owner_id, "attribute", key, "set", old, value, origin)
    if history is None:
        buffer.flush()
    return True


def delete_attribute(org_id, owner_type, owner_id, key: str, origin: Origin) -> bool:
    row = StateAttribute.get_or_none(_owner(StateAttribute, owner_type, owner_id) & (StateAttribute.key == key))
    if row is None:
        return False
    row.delete_instance()
    buffer = HistoryBuffer()
    buffer.record(org_id, owner_type, owner_id, "attribute", key, "delete", row.value, None, origin)
    buffer.flush()
    return True


def set_tier(
    org_id,
    participant_id: str,
    tier_type: TierTypeRecord,
    level: str,
    rank: int,
    origin: Origin,
    history: HistoryBuffer | None = None,
    *,
    reason: str,
    expires_at: datetime | None = None,
    owner_type: str = PARTICIPANT,
) -> TierMove | None:
    """Put a participant (or, with `owner_type=GROUP`, a group, A257) at `level` of a tier type,
    scheduled anew by its lifecycle, expiring at `expires_at`; the move made, None when the level
    already was there (left as it was). `reason`: RULE, QUALIFICATION or API (A133). The caller
    holds the owner's lock."""
    buffer = history if history is not None else HistoryBuffer()
    holder = HOLDERS[owner_type]
    row = tier_row(participant_id, tier_type, owner_type)
    if row is not None and row.level == level:
        return None
    if row is None:  # what the owner's own schedule had due is rolled over first (A215)
        tier_rollovers.hand_over(participant_id, tier_type.id, origin.at, buffer, owner_type)
    standing = tier_standing.scheduled(tier_type, row, level, rank, origin.at, expires_at)
    if row is None:
        holder.levels.create(
            organisation=org_id,
            program=tier_type.program_id,
            tier_type=tier_type.id,
            tier_key=tier_type.key,
            acquired_at=origin.at,
            **{holder.field: participant_id},
            **tier_standing.standing_columns(standing),
        )
    else:
        tier_standing.write_standing(row.id, standing, holder.levels, acquired_at=origin.at)
    old = None if row is None else row.level
    tier_origin = Origin(origin.event_id, origin.rule_id, origin.api_key_id, tier_type.program_id, origin.at)
    buffer.record(org_id, owner_type, participant_id, "tier", tier_type.key, "set", old, level, tier_origin, reason)
    if history is None:
        buffer.flush()
    old_rank = None if row is None else row.rank
    program_id = tier_type.program_id
    return TierMove(
        org_id,
        participant_id,
        program_id,
        tier_type.key,
        old,
        old_rank,
        level,
        rank,
        reason,
        origin.at,
        origin.event_id,
        owner_type,
    )


def tier_row(owner_id: str, tier_type: TierTypeRecord, owner_type: str = PARTICIPANT, *, live: bool = False):
    """The owner's row of a tier type (None: no level); `live`: only a level not past its expiry."""
    holder = HOLDERS[owner_type]
    condition = holder.owned(holder.levels, owner_id) & (holder.levels.tier_type == tier_type.id)
    return holder.levels.get_or_none(condition & live_level(model=holder.levels) if live else condition)


def set_tier_expiry(
    participant_id: str, tier_type: TierTypeRecord, expires_at: datetime | None, owner_type: str = PARTICIPANT
) -> None:
    """Replace when the owner's level of a tier type lapses (None: never)."""
    row = tier_row(participant_id, tier_type, owner_type)
    standing = replace(tier_standing.standing_of(row), expires_at=expires_at)
    tier_standing.write_standing(row.id, standing, HOLDERS[owner_type].levels)


def live_level(at: datetime | None = None, model: Any = ParticipantTier):
    """Levels (of `model`, participants' by default) not past their `expires_at` at `at` (default
    now): a lapsed level is gone at read time, swept or not (D33)."""
    return model.expires_at.is_null() | (model.expires_at > (at or utcnow()))


def live_tiers(
    owner_id: str, program_id: str, owner_type: str = PARTICIPANT, at: datetime | None = None
) -> dict[str, TierState]:
    """The owner's levels in a program live at `at` (default now), by tier key, as the engine's
    Structs want them."""
    model = HOLDERS[owner_type].levels
    query = model.select().where(
        HOLDERS[owner_type].owned(model, owner_id) & (model.program == program_id) & live_level(at, model)
    )
    return {row.tier_key: TierState(level=row.level, rank=row.rank) for row in query}


# --- reading state for the engine -----------------------------------------------------------------


def load_entity_state(owner_type: str, owner_id: str, program_id: str | None = None) -> tuple[list, dict, dict]:
    """(tags, counters, attributes) of one owner, as the engine's Structs want them, read in one
    statement (`owner_reads.read_owner`)."""
    state = read_owner(owner_type, owner_id)
    return state.tags, state.counters, state.attributes


def participant_state(participant, program_id: str | None, balances: dict) -> EntityState:
    tags, counters, attributes = load_entity_state("PARTICIPANT", participant.id)
    tiers = live_tiers(participant.id, program_id) if program_id is not None else {}
    return EntityState(
        id=participant.id,
        external_id=participant.external_id,
        status=participant.status,
        tags=tags,
        counters=counters,
        attributes=attributes,
        tiers=tiers,
        balances=balances,
    )


def program_state(program_id: str, wallet: dict) -> ProgramState:
    tags, counters, attributes = load_entity_state("PROGRAM", program_id)
    return ProgramState(tags=tags, counters=counters, attributes=attributes, wallet=wallet)


def _expired(row: StateCounter, at: datetime) -> bool:
    return counter_reset_due(row.reset_after, row.last_reset_at, at)


def lock_owner(owner_type: str, owner_id: str) -> None:
    """Lock the row that owns some state (participant, group or program) for this transaction, so
    concurrent read-modify-writes of its counters never lose an update (a no-op on SQLite, whose
    write transactions are already serial)."""
    from engine.store.db import is_postgres
    from engine.store.models import Group, Participant, Program

    if not is_postgres():
        return
    model = {"PARTICIPANT": Participant, "GROUP": Group, "PROGRAM": Program}[owner_type]
    database_proxy.execute_sql(f'SELECT 1 FROM "{model._meta.table_name}" WHERE id = %s FOR UPDATE', [owner_id])
