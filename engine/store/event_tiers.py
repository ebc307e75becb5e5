"""An event's tier work in storage, for its participants and for groups (A257, A258): the levels
its result sets (SET_TIER, auto-qualification), the ACTIVITY_REFRESH waits it starts again, and
the rollovers its qualifying counters schedule. `engine.store.applier` calls these inside the
event's transaction, with the owners locked.

    move = set_level(event, PARTICIPANT, person.id, "status", "gold", (rule_id, "promote"), None, history)
    refresh_waits(event, PARTICIPANT, person.id)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from engine.model.tier_lifecycle import refresh
from engine.store import owner_state, statements, tier_rollovers, tier_standing
from engine.store.errors import LedgerRejected
from engine.store.models import EventRecord, TierTypeRecord
from engine.store.state_records import HistoryBuffer
from engine.store.tier_holders import HOLDERS
from engine.store.tier_standing import TierMove


def set_level(
    event: EventRecord,
    owner_type: str,
    owner_id: str,
    key: str,
    level: str,
    rule: tuple[str | None, str] | None,
    expires_at: datetime | None,
    history: HistoryBuffer,
) -> TierMove | None:
    """Put the owner at `level` of the program's tier `key`: by a rule (`rule`: its stored id, None
    when it has none, and its name; reason RULE) or by auto-qualification (`rule` None; reason
    QUALIFICATION). None when the tier is archived (SET_TIER on it is skipped, the event completes) or
    the level was already held. A level the tier lacks fails the event (`unknown_tier_level`)."""
    tier = TierTypeRecord.get_or_none(
        (TierTypeRecord.program == event.program_id) & (TierTypeRecord.key == key) & (TierTypeRecord.status == "ACTIVE")
    )
    if tier is None:
        return None
    ranks = {item["key"]: item["rank"] for item in tier.definition["levels"]}
    if level not in ranks:
        raise LedgerRejected(f"tier {key} has no level {level!r}", code="unknown_tier_level")
    rule_id = rule[0] if rule is not None else None
    origin = owner_state.Origin(event_id=event.id, rule_id=rule_id, program_id=event.program_id)
    move = owner_state.set_tier(
        event.organisation_id,
        owner_id,
        tier,
        level,
        ranks[level],
        origin,
        history,
        reason="RULE" if rule is not None else "QUALIFICATION",
        expires_at=expires_at,
        owner_type=owner_type,
    )
    return None if move is None else replace(move, event_id=event.id)


def refresh_waits(event: EventRecord, owner_type: str, owner_id: str) -> None:
    """A processed event starts the wait of its owner's ACTIVITY_REFRESH levels again (A129),
    unless the wait had ended by the event's receive time (the sweep owes the lapse)."""
    holder, received = HOLDERS[owner_type], event.created_at
    rows = statements.fetch(
        holder.levels,
        f"{holder.column} = {{p}} AND program_id = {{p}} AND review_at IS NOT NULL AND review_at > {{p}} "
        "AND pending_drop = {p}",
        [owner_id, event.program_id, holder.levels.review_at.db_value(received), False],
        for_update=True,
    )
    for row in rows:
        spec = tier_standing.active_spec(TierTypeRecord.get_by_id(row.tier_type_id))
        standing = tier_standing.standing_of(row)
        refreshed = refresh(spec, standing, received)
        if refreshed != standing:
            tier_standing.write_standing(row.id, refreshed, holder.levels)


def track_rollovers(
    event: EventRecord,
    counted: Mapping[tuple[str, str], set[str]],
    rolling: Mapping[str, frozenset[str]] | None,
) -> None:
    """Owners whose qualifying counters the event wrote, and who hold no level of the tier, have
    their rollover scheduled from the event's receive time (A215), after the event's own levels
    are set (a level's row schedules its own period ends). `rolling`: the program's tiers that
    roll counters over (None: read them)."""
    received, org_id, program_id = event.created_at, event.organisation_id, event.program_id
    for (owner_type, owner_id), keys in counted.items():
        if rolling is None:
            tier_rollovers.track(org_id, owner_id, keys, received, [program_id], owner_type)
        else:
            tier_rollovers.track_event(org_id, owner_id, program_id, keys, received, rolling, owner_type)
