"""A participant's or a group's tier levels through the API (`/v1/participants/{id}/state/tiers`
and `/v1/groups/{id}/state/tiers`, A257): read, set and reset per program, each change in state
history with the API key and sent as `participant.tier_changed` (a group's naming `group_id`)."""

from __future__ import annotations

from typing import Any

from api.auth import Principal
from api.errors import Conflict, NotFound, field_error
from api.queries.participants import get_participant_row
from api.queries.programs import get_program_row
from api.schemas.participants import TierSet, TierStateOut
from api.webhook_events import publish_tier_changed
from engine.store import groups, owner_state, tier_rollovers
from engine.store.db import write_transaction
from engine.store.models import GROUP, PARTICIPANT, Enrolment, TierTypeRecord
from engine.store.owner_state import live_level, tier_row
from engine.store.tier_holders import HOLDERS
from engine.store.tier_standing import TierMove

NOUN = {PARTICIPANT: "participant", GROUP: "group"}


def _tier_type(org_id: str, program_id: str, key: str) -> TierTypeRecord:
    row = TierTypeRecord.get_or_none(
        (TierTypeRecord.organisation == org_id) & (TierTypeRecord.program == program_id) & (TierTypeRecord.key == key)
    )
    if row is None:
        raise NotFound(f"tier {key!r} not found in this program", details={"field": "key"})
    return row


def _tier_out(row: Any, tier_type: TierTypeRecord) -> TierStateOut:
    levels = {level["key"]: level for level in tier_type.definition.get("levels", [])}
    return TierStateOut(
        key=row.tier_key,
        level=row.level,
        rank=row.rank,
        benefits=levels.get(row.level, {}).get("benefits", {}),
        acquired_at=row.acquired_at,
        expires_at=row.expires_at,
    )


def _owner(principal: Principal, owner_type: str, owner_id: str, *, write: bool) -> Any:
    """The participant, or the group (locked and ACTIVE to be changed: 409 `group_archived`)."""
    if owner_type == GROUP:
        find = groups.modifiable_group if write else groups.group
        return find(principal.organisation_id, owner_id)
    return get_participant_row(principal.organisation_id, owner_id)


def list_tiers(
    principal: Principal, owner_id: str, program_id: str, owner_type: str = PARTICIPANT
) -> list[TierStateOut]:
    owner = _owner(principal, owner_type, owner_id, write=False)
    get_program_row(principal.organisation_id, program_id)
    holder = HOLDERS[owner_type]
    model = holder.levels
    rows = (
        model.select(model, TierTypeRecord)
        .join(TierTypeRecord)
        .where(holder.owned(model, owner.id) & (model.program == program_id) & live_level(model=model))
        .order_by(model.tier_key)
    )
    return [_tier_out(row, row.tier_type) for row in rows]


def get_tier(principal: Principal, owner_id: str, program_id: str, key: str, owner_type: str = PARTICIPANT):
    owner = _owner(principal, owner_type, owner_id, write=False)
    tier_type = _tier_type(principal.organisation_id, program_id, key)
    row = tier_row(owner.id, tier_type, owner_type, live=True)
    if row is None:
        raise NotFound(f"the {NOUN[owner_type]} has no level in this tier")
    return _tier_out(row, tier_type)


def set_tier(
    principal: Principal, owner_id: str, program_id: str, key: str, data: TierSet, owner_type: str = PARTICIPANT
) -> TierStateOut:
    """Put the owner at a level: a participant must be ACTIVE and enrolled, a group ACTIVE (not
    archived), the program ACTIVE, the tier not archived (409 otherwise)."""
    org = principal.organisation_id
    with write_transaction():
        owner = _owner(principal, owner_type, owner_id, write=True)
        program = get_program_row(org, program_id)
        tier_type = _tier_type(org, program_id, key)
        if owner_type == PARTICIPANT and owner.status != "ACTIVE":
            raise Conflict(f"the participant is {owner.status}", code="participant_inactive")
        if program.status != "ACTIVE":
            raise Conflict(f"the program is {program.status}", code="program_inactive")
        if tier_type.status == "ARCHIVED":
            raise Conflict(f"tier {key!r} is archived", code="tier_archived")
        if owner_type == PARTICIPANT and not _enrolled(owner.id, program.id):
            raise Conflict("the participant is not enrolled in this program", code="not_enrolled")
        levels = {level["key"]: level for level in tier_type.definition.get("levels", [])}
        if data.level not in levels:
            raise field_error("level", f"tier {key!r} has no level {data.level!r} (levels: {', '.join(levels)})")
        origin = owner_state.Origin(api_key_id=principal.api_key_id)
        if data.expires_at is not None and data.expires_at <= origin.at:
            raise field_error("expires_at", "expires_at must be in the future")
        rank = int(levels[data.level]["rank"])
        move = owner_state.set_tier(
            org,
            owner.id,
            tier_type,
            data.level,
            rank,
            origin,
            reason="API",
            expires_at=data.expires_at,
            owner_type=owner_type,
        )
        if move is None:  # the same level: its expiry is replaced (A135)
            owner_state.set_tier_expiry(owner.id, tier_type, data.expires_at, owner_type)
        else:
            publish_tier_changed(org, move)
        row = tier_row(owner.id, tier_type, owner_type)
    return _tier_out(row, tier_type)


def _enrolled(participant_id: str, program_id: str) -> bool:
    return (
        Enrolment.select().where((Enrolment.participant == participant_id) & (Enrolment.program == program_id)).exists()
    )


def remove_tier(principal: Principal, owner_id: str, program_id: str, key: str, owner_type: str = PARTICIPANT) -> None:
    """Back to the base (no level), recorded in state history; a no-op when there is no level."""
    org = principal.organisation_id
    with write_transaction():
        owner = _owner(principal, owner_type, owner_id, write=True)
        tier_type = _tier_type(org, program_id, key)
        row = tier_row(owner.id, tier_type, owner_type)
        if row is None:
            return
        row.delete_instance()
        history = owner_state.HistoryBuffer()
        origin = owner_state.Origin(api_key_id=principal.api_key_id, program_id=program_id)
        # their period goes on (A215)
        tier_rollovers.start_after_level(row, origin.at, row.period_ends_at, owner_type)
        history.record(org, owner_type, owner.id, "tier", key, "delete", row.level, None, origin, "API")
        history.flush()
        if row.expires_at is None or row.expires_at > origin.at:  # a lapsed level was already gone (D33)
            at = origin.at
            move = TierMove(
                org, owner.id, program_id, key, row.level, row.rank, None, None, "API", at, None, owner_type
            )
            publish_tier_changed(org, move)
