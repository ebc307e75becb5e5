"""A participant's statement: every posting to one of their accounts with its journal entry (what
happened, why, when), newest first; the event's timestamp for the movements an event made.

    statement(org_id, participant_id, StatementFilters(asset_id="PTS", bucket="AVAILABLE"), limit=50, cursor=None)
"""

from __future__ import annotations

from datetime import datetime

import msgspec
import peewee

from api.pagination import Page, paginate
from api.schemas.statement import StatementEntryOut
from engine.store import lookups
from engine.store.fields import canonical_decimal
from engine.store.models import PARTICIPANT, EventRecord, JournalEntry, Posting


class StatementFilters(msgspec.Struct, kw_only=True):
    asset_id: str | None = None  # an id or a symbol
    bucket: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    event_from: datetime | None = None  # the event's timestamp: only movements events made
    event_to: datetime | None = None


def statement(
    org_id: str, participant_id: str, filters: StatementFilters, *, limit: int, cursor: str | None
) -> Page[StatementEntryOut]:
    """404 for a participant of another organisation. Posting ids are UUIDv7, so ordering by id
    is ordering by time, on the index (entity_type, entity_id, id)."""
    person = lookups.participant(org_id, participant_id)
    query = (
        Posting.select(Posting, JournalEntry, EventRecord.event_timestamp)
        .join(JournalEntry)
        .switch(Posting)
        .join(EventRecord, peewee.JOIN.LEFT_OUTER, on=(JournalEntry.event_id == EventRecord.id))
        .where((Posting.entity_type == PARTICIPANT) & (Posting.entity_id == person.id))
    )
    if filters.asset_id is not None:
        query = query.where((Posting.asset == filters.asset_id) | (Posting.asset_symbol == filters.asset_id))
    if filters.bucket is not None:
        query = query.where(Posting.bucket == filters.bucket)
    if filters.created_from is not None:
        query = query.where(Posting.created_at >= filters.created_from)
    if filters.created_to is not None:
        query = query.where(Posting.created_at <= filters.created_to)
    if filters.event_from is not None:
        query = query.where(EventRecord.event_timestamp >= filters.event_from)
    if filters.event_to is not None:
        query = query.where(EventRecord.event_timestamp <= filters.event_to)
    return paginate(
        query, keys=[Posting.id], descending=True, limit=limit, cursor=cursor, listing="statement", render=_line
    )


def _line(row: Posting) -> StatementEntryOut:
    entry: JournalEntry = row.entry
    event = getattr(row, "eventrecord", None)
    return StatementEntryOut(
        journal_entry_id=entry.id,
        action_type=entry.action_type,
        amount=canonical_decimal(row.amount),
        asset_id=row.asset_id,
        asset_symbol=row.asset_symbol,
        bucket=row.bucket,
        description=entry.description,
        event_id=entry.event_id,
        event_timestamp=None if event is None else event.event_timestamp,
        program_id=entry.program_id,
        reference_id=entry.reference_id,
        created_by_api_key_id=entry.created_by_api_key_id,
        created_at=row.created_at,
    )
