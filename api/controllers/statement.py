"""`GET /v1/participants/{id}/activity/history`: the member's statement, the movements of their
balances as an app shows them."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from api.auth import Principal
from api.db import with_connection
from api.errors import responses
from api.pagination import LIMIT_DEFAULT, CursorParam, LimitParam, Page
from api.queries.events import check_range
from api.queries.statement import StatementFilters, statement
from api.schemas.common import TIMESTAMP_HELP, parse_timestamp
from api.schemas.statement import StatementEntryOut

Stamp = Annotated[str | None, QueryParameter(description=TIMESTAMP_HELP)]


class StatementController(Controller):
    path = "/v1/participants"
    tags = ("participants",)

    @get(
        "/{participant_id:str}/activity/history",
        sync_to_thread=True,
        summary="A participant's transaction history (statement)",
        responses=responses(404),
    )
    @with_connection
    def history(
        self,
        participant_id: FromPath[str],
        principal: NamedDependency[Principal],
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        asset_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        bucket: Annotated[Literal["AVAILABLE", "HELD", "DEFERRED"] | None, QueryParameter()] = None,
        from_: Annotated[str | None, QueryParameter(name="from", description=TIMESTAMP_HELP)] = None,
        to: Stamp = None,
        event_from: Stamp = None,
        event_to: Stamp = None,
    ) -> Page[StatementEntryOut]:
        """Newest first: one line per movement of one of the participant's buckets, `amount` signed.
        `asset_id` takes an id or a symbol; `from`/`to` bound when the movement was made,
        `event_from`/`event_to` the timestamp of the event that made it (movements without an
        event are left out then)."""
        created = parse_timestamp("from", from_), parse_timestamp("to", to)
        happened = parse_timestamp("event_from", event_from), parse_timestamp("event_to", event_to)
        check_range("from", *created)
        check_range("event_from", *happened)
        filters = StatementFilters(
            asset_id=asset_id,
            bucket=bucket,
            created_from=created[0],
            created_to=created[1],
            event_from=happened[0],
            event_to=happened[1],
        )
        return statement(principal.organisation_id, participant_id, filters, limit=limit, cursor=cursor)
