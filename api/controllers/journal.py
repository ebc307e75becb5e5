"""`/v1/journal-entries`: the ledger, newest first, and one entry with its postings."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from api.auth import Principal
from api.db import with_connection
from api.errors import field_error, responses
from api.pagination import LIMIT_DEFAULT, CursorParam, IdFilter, LimitParam, Page
from api.queries.events import check_range
from api.queries.journal import JournalFilters, get_entry, list_entries
from api.schemas.common import TIMESTAMP_HELP, parse_timestamp
from api.schemas.journal import JournalEntryOut

Text = Annotated[str | None, QueryParameter()]
SIGNED = "Signed posting amount as a decimal string"


def _amount(field: str, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise field_error(field, f"{field} must be a decimal number") from exc
    if not amount.is_finite():
        raise field_error(field, f"{field} must be a decimal number")
    return amount


class JournalController(Controller):
    path = "/v1/journal-entries"
    tags = ("ledger",)

    @get("/", sync_to_thread=True, summary="List journal entries")
    @with_connection
    def list_entries(
        self,
        principal: NamedDependency[Principal],
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        program_id: IdFilter = None,
        event_id: IdFilter = None,
        rule_id: IdFilter = None,
        participant_id: IdFilter = None,
        group_id: IdFilter = None,
        external_id: Text = None,
        asset_id: Text = None,
        bucket: Annotated[Literal["AVAILABLE", "HELD", "DEFERRED"] | None, QueryParameter()] = None,
        from_: Annotated[str | None, QueryParameter(name="from", description=TIMESTAMP_HELP)] = None,
        to: Annotated[str | None, QueryParameter(description=TIMESTAMP_HELP)] = None,
        min_amount: Annotated[str | None, QueryParameter(description=SIGNED)] = None,
        max_amount: Annotated[str | None, QueryParameter(description=SIGNED)] = None,
        action_type: Text = None,
        reference_id: Text = None,
    ) -> Page[JournalEntryOut]:
        """Newest first; postings are omitted (see the detail). Posting filters (entity, asset,
        bucket, amounts) select entries with at least one matching posting."""
        created = parse_timestamp("from", from_), parse_timestamp("to", to)
        check_range("from", *created)
        filters = JournalFilters(
            program_id=program_id,
            event_id=event_id,
            rule_id=rule_id,
            participant_id=participant_id,
            group_id=group_id,
            external_id=external_id,
            asset_id=asset_id,
            bucket=bucket,
            created_from=created[0],
            created_to=created[1],
            min_amount=_amount("min_amount", min_amount),
            max_amount=_amount("max_amount", max_amount),
            action_type=action_type,
            reference_id=reference_id,
        )
        return list_entries(principal.organisation_id, filters, limit=limit, cursor=cursor)

    @get(
        "/{entry_id:str}",
        sync_to_thread=True,
        summary="Get a journal entry with its postings",
        responses=responses(404),
    )
    @with_connection
    def get_entry(self, entry_id: FromPath[str], principal: NamedDependency[Principal]) -> JournalEntryOut:
        return get_entry(principal.organisation_id, entry_id)
