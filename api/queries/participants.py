"""Participants for the API: upsert by external_id, list filters, the detail with balances and
state, profile patches and status changes. Tags and attributes given on create or patch are
written with state history, like every other state change (origin: the API key)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import peewee
from msgspec import UNSET

from api.auth import Principal
from api.errors import Conflict, NotFound
from api.pagination import Page, paginate
from api.queries.programs import amount_text
from api.schemas.participants import (
    BalanceOut,
    ParticipantOut,
    ParticipantPatch,
    ParticipantUpsert,
    StateHistoryOut,
    TierOut,
)
from engine.store import groups, owner_state, participants
from engine.store.db import utcnow, write_transaction
from engine.store.fields import canonical_decimal
from engine.store.ledger.accounts import balances_of
from engine.store.ledger.lots import balances_as_of
from engine.store.models import (
    GROUP,
    PARTICIPANT,
    Asset,
    Enrolment,
    Participant,
    ParticipantTier,
    StateAttribute,
    StateCounter,
    StateHistory,
    StateTag,
)
from engine.store.owner_state import live_level

PROFILE_FIELDS = ("email", "phone", "first_name", "last_name", "display_name")


def get_participant_row(org_id: str, participant_id: str) -> Participant:
    row = Participant.get_or_none((Participant.id == participant_id) & (Participant.organisation == org_id))
    if row is None:
        raise NotFound("participant not found")
    return row


def _program_ids(participant_ids: list[str]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {p: [] for p in participant_ids}
    query = Enrolment.select(Enrolment.participant, Enrolment.program).where(Enrolment.participant.in_(participant_ids))
    for row in query.order_by(Enrolment.id):
        result[row.participant_id].append(row.program_id)
    return result


def participant_out(row: Participant, program_ids: list[str] | None = None, *, detail: bool = False) -> ParticipantOut:
    if program_ids is None:
        program_ids = _program_ids([row.id])[row.id]
    out = ParticipantOut(
        id=row.id,
        external_id=row.external_id,
        status=row.status,
        email=row.email,
        phone=row.phone,
        first_name=row.first_name,
        last_name=row.last_name,
        display_name=row.display_name,
        program_ids=program_ids,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
    if detail:
        owner = (StateTag.owner_type == PARTICIPANT) & (StateTag.owner_id == row.id)
        out.tags = sorted(t.tag for t in StateTag.select(StateTag.tag).where(owner))
        out.counters = {
            c.key: canonical_decimal(c.value)
            for c in StateCounter.select().where(
                (StateCounter.owner_type == PARTICIPANT) & (StateCounter.owner_id == row.id)
            )
        }
        out.attributes = {
            a.key: a.value
            for a in StateAttribute.select().where(
                (StateAttribute.owner_type == PARTICIPANT) & (StateAttribute.owner_id == row.id)
            )
        }
        out.tiers = {
            t.tier_key: TierOut(level=t.level, rank=t.rank)
            for t in ParticipantTier.select().where((ParticipantTier.participant == row.id) & live_level())
        }
        out.balances = participant_balances(row.id, None)
    return out


def participant_balances(participant_id: str, asset_id: str | None) -> list[BalanceOut]:
    balances = balances_as_of(
        PARTICIPANT,
        participant_id,
        balances_of(PARTICIPANT, participant_id, [asset_id] if asset_id else None),
        utcnow(),
    )
    assets = {a.id: a for a in Asset.select().where(Asset.id.in_(list(balances)))}
    return [
        BalanceOut(
            asset_id=aid,
            available=amount_text(b.available, assets[aid].scale),
            held=amount_text(b.held, assets[aid].scale),
            deferred=amount_text(b.deferred, assets[aid].scale),
        )
        for aid, b in sorted(balances.items())
        if aid in assets
    ]


def upsert_participant(principal: Principal, data: ParticipantUpsert) -> tuple[ParticipantOut, bool]:
    """Create the participant with this external_id, or update the existing one: `(out, created)`."""
    # "" clears a field; it is stored as null, also on create.
    profile = {name: getattr(data, name) or None for name in PROFILE_FIELDS if getattr(data, name) is not None}
    row, created = participants.upsert_participant(
        principal.organisation_id,
        data.external_id,
        program_id=data.program_id,
        status=data.status,
        profile=profile,
        attributes=data.attributes,
        tags=data.tags,
        api_key_id=principal.api_key_id,
    )
    return participant_out(row, detail=True), created


def replace_tags(principal: Principal, owner_id: str, tags: list[str], owner_type: str = PARTICIPANT) -> None:
    """Make the participant's (or group's) tags exactly `tags` (lower-cased), recording each change."""
    org, origin, history = (
        principal.organisation_id,
        owner_state.Origin(api_key_id=principal.api_key_id),
        owner_state.HistoryBuffer(),
    )
    wanted = {tag.lower() for tag in tags}
    current = {
        row.tag
        for row in StateTag.select(StateTag.tag).where(
            (StateTag.owner_type == owner_type) & (StateTag.owner_id == owner_id)
        )
    }
    for tag in sorted(current - wanted):
        owner_state.remove_tag(org, owner_type, owner_id, tag, origin, history)
    for tag in sorted(wanted - current):
        owner_state.add_tag(org, owner_type, owner_id, tag, origin, history)
    history.flush()


def merge_attributes(
    principal: Principal, owner_id: str, attributes: dict[str, str], owner_type: str = PARTICIPANT
) -> None:
    origin, history = owner_state.Origin(api_key_id=principal.api_key_id), owner_state.HistoryBuffer()
    for key, value in attributes.items():
        owner_state.set_attribute(principal.organisation_id, owner_type, owner_id, key, value, origin, history)
    history.flush()


def patch_participant(principal: Principal, participant_id: str, data: ParticipantPatch) -> ParticipantOut:
    """Profile fields ("" clears), external_id, attributes (merge) and tags (replace all)."""
    with write_transaction():
        row = get_participant_row(principal.organisation_id, participant_id)
        if data.external_id is not UNSET and data.external_id != row.external_id:
            if (
                Participant.select()
                .where(
                    (Participant.organisation == row.organisation_id) & (Participant.external_id == data.external_id)
                )
                .exists()
            ):
                raise Conflict(
                    f"another participant has external_id {data.external_id!r}",
                    code="already_exists",
                    details={"field": "external_id"},
                )
            row.external_id = data.external_id
        for name in PROFILE_FIELDS:
            value = getattr(data, name)
            if value is not UNSET:
                setattr(row, name, value or None)
        row.save()
        if data.tags is not UNSET:
            replace_tags(principal, row.id, data.tags)
        if data.attributes is not UNSET:
            merge_attributes(principal, row.id, data.attributes)
    return participant_out(row, detail=True)


def set_status(principal: Principal, participant_id: str, status: str) -> ParticipantOut:
    return participant_out(participants.set_status(principal.organisation_id, participant_id, status), detail=True)


def list_participants(
    org_id: str,
    *,
    external_id: str | None,
    program_id: str | None,
    status: str | None,
    search: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    sort_by: Literal["created_at", "external_id", "status"],
    descending: bool,
    limit: int,
    cursor: str | None,
) -> Page[ParticipantOut]:
    query = Participant.select().where(Participant.organisation == org_id)
    if external_id is not None:
        query = query.where(Participant.external_id == external_id)
    if status is not None:
        query = query.where(Participant.status == status)
    if program_id is not None:
        query = query.where(
            Participant.id.in_(Enrolment.select(Enrolment.participant).where(Enrolment.program == program_id))
        )
    if search:
        fields: list[peewee.Field] = [
            Participant.external_id,
            Participant.email,
            Participant.phone,
            Participant.first_name,
            Participant.last_name,
            Participant.display_name,
        ]
        condition: peewee.Expression = fields[0].contains(search)
        for field in fields[1:]:
            condition = condition | field.contains(search)
        query = query.where(condition)
    if created_from is not None:
        query = query.where(Participant.created_at >= created_from)
    if created_to is not None:
        query = query.where(Participant.created_at <= created_to)
    sort = {"created_at": Participant.created_at, "external_id": Participant.external_id, "status": Participant.status}[
        sort_by
    ]
    page = paginate(
        query,
        keys=[sort, Participant.id],
        descending=descending,
        limit=limit,
        cursor=cursor,
        listing="participants",
        render=lambda row: row,
    )
    links = _program_ids([row.id for row in page.data])
    return Page(data=[participant_out(row, links[row.id]) for row in page.data], pagination=page.pagination)


def state_history(
    org_id: str,
    owner_id: str,
    *,
    owner_type: str = PARTICIPANT,
    state_type: str | None,
    key: str | None,
    program_id: str | None,
    operation: str | None,
    changed_from: datetime | None,
    changed_to: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page[StateHistoryOut]:
    """Newest first; the owner a participant or (`owner_type=GROUP`) a group."""
    if owner_type == GROUP:
        groups.group(org_id, owner_id)
    else:
        get_participant_row(org_id, owner_id)
    query = StateHistory.select().where(
        (StateHistory.organisation == org_id)
        & (StateHistory.owner_type == owner_type)
        & (StateHistory.owner_id == owner_id)
    )
    for column, value in (
        (StateHistory.state_type, state_type),
        (StateHistory.key, key),
        (StateHistory.program_id, program_id),
        (StateHistory.operation, operation),
    ):
        if value is not None:
            query = query.where(column == value)
    if changed_from is not None:
        query = query.where(StateHistory.changed_at >= changed_from)
    if changed_to is not None:
        query = query.where(StateHistory.changed_at <= changed_to)
    return paginate(
        query,
        keys=[StateHistory.id],
        descending=True,
        limit=limit,
        cursor=cursor,
        listing="state-history",
        render=_history_out,
    )


def _history_out(row: StateHistory) -> StateHistoryOut:
    return StateHistoryOut(
        id=row.id,
        state_type=row.state_type,
        key=row.key,
        operation=row.operation,
        old_value=row.old_value,
        new_value=row.new_value,
        program_id=row.program_id,
        event_id=row.event_id,
        rule_id=row.rule_id,
        changed_by_api_key_id=row.changed_by_api_key_id,
        changed_at=row.changed_at,
        reason=row.reason if row.reason is not None else UNSET,
    )
