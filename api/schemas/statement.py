"""The body of `GET /v1/participants/{id}/activity/history`: the member's statement."""

from __future__ import annotations

from datetime import datetime

from api.schemas.common import Response


class StatementEntryOut(Response, kw_only=True):
    """One movement of one of the participant's buckets: `amount` is signed (positive: value came
    in). A HOLD is two lines, AVAILABLE out and HELD in."""

    journal_entry_id: str
    action_type: str
    amount: str
    asset_id: str
    asset_symbol: str
    bucket: str
    description: str | None
    event_id: str | None
    event_timestamp: datetime | None
    program_id: str | None
    reference_id: str | None
    created_by_api_key_id: str | None
    created_at: datetime
