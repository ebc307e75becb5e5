"""Bodies of `/v1/journal-entries`."""

from __future__ import annotations

from datetime import datetime

from api.schemas.common import Response


class PostingOut(Response):
    id: str
    amount: str  # signed: positive credits the account
    asset_id: str
    asset_symbol: str
    bucket: str
    entity_type: str
    participant_id: str | None
    group_id: str | None
    program_id: str | None
    entity_id: str
    created_at: datetime


class JournalEntryOut(Response):
    id: str
    sequence: int
    action_type: str
    description: str | None
    entry_hash: str
    prev_hash: str
    event_id: str | None
    rule_id: str | None
    created_by_api_key_id: str | None
    program_id: str | None
    program_name: str | None
    reference_id: str | None
    created_at: datetime
    postings: list[PostingOut] | None = None
