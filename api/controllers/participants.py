"""`/v1/participants`: upsert, list, detail, patch, status, balances and direct balance operations,
state history and the participant's events. The state endpoints are in `participant_state`.
Creating a participant and adjust/hold/release publish their webhook events in the same
transaction (`api.webhook_events`)."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Principal
from api.balance_operations import perform
from api.db import with_connection
from api.errors import responses
from api.pagination import LIMIT_DEFAULT, CursorParam, IdFilter, LimitParam, Page, PageInfo, SortDirParam
from api.queries.events import EventFilters, check_range, list_events
from api.queries.participants import (
    get_participant_row,
    list_participants,
    participant_balances,
    participant_out,
    patch_participant,
    set_status,
    state_history,
    upsert_participant,
)
from api.schemas.common import TIMESTAMP_HELP, parse_timestamp
from api.schemas.events import EventOut, EventStatus
from api.schemas.participants import (
    Adjust,
    BalanceOperation,
    BalanceOut,
    ParticipantOut,
    ParticipantPatch,
    ParticipantStatus,
    ParticipantUpsert,
    StateHistoryOut,
    StatusChange,
)
from api.webhook_events import publish_participant_created
from engine.store import operations
from engine.store.db import write_transaction
from engine.store.operations import AdjustResult, BalanceOpResult

Stamp = Annotated[str | None, QueryParameter(description=TIMESTAMP_HELP)]


class ParticipantController(Controller):
    path = "/v1/participants"
    tags = ("participants",)

    @post(
        "/",
        sync_to_thread=True,
        summary="Create or update a participant (upsert by external_id)",
        responses={
            **responses(404),
            200: ResponseSpec(
                data_container=ParticipantOut,
                generate_examples=False,
                description="Updated: the participant already existed",
            ),
        },
        status_code=201,
    )
    @with_connection
    def upsert_participant(
        self, data: JSONBody[ParticipantUpsert], principal: NamedDependency[Principal]
    ) -> Response[ParticipantOut]:
        """201 when created, 200 when a participant with this external_id existed (then updated:
        profile fields set, attributes merged, tags added)."""
        with write_transaction():  # participant.created commits with the participant, or neither does
            out, created = upsert_participant(principal, data)
            if created:
                publish_participant_created(principal.organisation_id, out.id, out.external_id, data.program_id)
        return Response(out, status_code=201 if created else 200)

    @get("/", sync_to_thread=True, summary="List participants")
    @with_connection
    def list_participants(
        self,
        principal: NamedDependency[Principal],
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        external_id: Annotated[str | None, QueryParameter()] = None,
        program_id: IdFilter = None,
        status: Annotated[ParticipantStatus | None, QueryParameter()] = None,
        search: Annotated[str | None, QueryParameter(max_length=255)] = None,
        from_: Annotated[str | None, QueryParameter(name="from", description=TIMESTAMP_HELP)] = None,
        to: Stamp = None,
        sort_by: Annotated[Literal["created_at", "external_id", "status"], QueryParameter()] = "created_at",
        sort_dir: SortDirParam = "desc",
    ) -> Page[ParticipantOut]:
        """List items carry no balances or state; `search` matches external_id, email, phone and names."""
        created = parse_timestamp("from", from_), parse_timestamp("to", to)
        check_range("from", *created)
        return list_participants(
            principal.organisation_id,
            external_id=external_id,
            program_id=program_id,
            status=status,
            search=search,
            created_from=created[0],
            created_to=created[1],
            sort_by=sort_by,
            descending=sort_dir == "desc",
            limit=limit,
            cursor=cursor,
        )

    @get(
        "/{participant_id:str}",
        sync_to_thread=True,
        summary="Get a participant with balances and state",
        responses=responses(404),
    )
    @with_connection
    def get_participant(self, participant_id: FromPath[str], principal: NamedDependency[Principal]) -> ParticipantOut:
        return participant_out(get_participant_row(principal.organisation_id, participant_id), detail=True)

    @patch("/{participant_id:str}", sync_to_thread=True, summary="Update a participant", responses=responses(404, 409))
    @with_connection
    def patch_participant(
        self, participant_id: FromPath[str], data: JSONBody[ParticipantPatch], principal: NamedDependency[Principal]
    ) -> ParticipantOut:
        """Profile strings ("" clears), external_id, attributes (merge), tags (replace all)."""
        return patch_participant(principal, participant_id, data)

    @patch(
        "/{participant_id:str}/status",
        sync_to_thread=True,
        summary="Change a participant's status",
        responses=responses(404),
    )
    @with_connection
    def change_status(
        self, participant_id: FromPath[str], data: JSONBody[StatusChange], principal: NamedDependency[Principal]
    ) -> ParticipantOut:
        return set_status(principal, participant_id, data.status)

    @get(
        "/{participant_id:str}/balances",
        sync_to_thread=True,
        summary="A participant's balances",
        responses=responses(404),
    )
    @with_connection
    def balances(
        self,
        participant_id: FromPath[str],
        principal: NamedDependency[Principal],
        asset_id: Annotated[str | None, QueryParameter()] = None,
    ) -> Page[BalanceOut]:
        from api.queries.programs import resolve_asset

        person = get_participant_row(principal.organisation_id, participant_id)
        wanted = resolve_asset(principal.organisation_id, asset_id).id if asset_id else None
        return Page(data=participant_balances(person.id, wanted), pagination=PageInfo(has_more=False))

    @post(
        "/{participant_id:str}/balances/adjust",
        status_code=200,
        sync_to_thread=True,
        summary="Credit or debit a participant directly",
        responses=responses(404, 409, 422),
    )
    @with_connection
    def adjust(
        self, participant_id: FromPath[str], data: JSONBody[Adjust], principal: NamedDependency[Principal]
    ) -> AdjustResult:
        return perform(operations.adjust_balance, principal, participant_id, data)

    @post(
        "/{participant_id:str}/balances/hold",
        status_code=200,
        sync_to_thread=True,
        summary="Move AVAILABLE to HELD",
        responses=responses(404, 409, 422),
    )
    @with_connection
    def hold(
        self, participant_id: FromPath[str], data: JSONBody[BalanceOperation], principal: NamedDependency[Principal]
    ) -> BalanceOpResult:
        return perform(operations.hold, principal, participant_id, data)

    @post(
        "/{participant_id:str}/balances/release",
        status_code=200,
        sync_to_thread=True,
        summary="Move HELD back to AVAILABLE",
        responses=responses(404, 409, 422),
    )
    @with_connection
    def release(
        self, participant_id: FromPath[str], data: JSONBody[BalanceOperation], principal: NamedDependency[Principal]
    ) -> BalanceOpResult:
        return perform(operations.release, principal, participant_id, data)

    @post(
        "/{participant_id:str}/balances/forfeit",
        status_code=200,
        sync_to_thread=True,
        summary="Forfeit a bucket's value to SYSTEM_BREAKAGE",
        responses=responses(404, 409, 422),
    )
    @with_connection
    def forfeit(
        self, participant_id: FromPath[str], data: JSONBody[BalanceOperation], principal: NamedDependency[Principal]
    ) -> BalanceOpResult:
        """`bucket` is required; allowed on CLOSED participants."""
        return perform(operations.forfeit, principal, participant_id, data, publishes=False)

    @get(
        "/{participant_id:str}/activity/state-history",
        sync_to_thread=True,
        summary="State history",
        responses=responses(404),
    )
    @with_connection
    def history(
        self,
        participant_id: FromPath[str],
        principal: NamedDependency[Principal],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        state_type: Annotated[Literal["tag", "counter", "attribute", "tier"] | None, QueryParameter()] = None,
        key: Annotated[str | None, QueryParameter()] = None,
        program_id: IdFilter = None,
        operation: Annotated[Literal["set", "delete", "add", "remove", "auto_reset"] | None, QueryParameter()] = None,
        from_: Annotated[str | None, QueryParameter(name="from", description=TIMESTAMP_HELP)] = None,
        to: Stamp = None,
    ) -> Page[StateHistoryOut]:
        """Newest first."""
        changed = parse_timestamp("from", from_), parse_timestamp("to", to)
        check_range("from", *changed)
        return state_history(
            principal.organisation_id,
            participant_id,
            state_type=state_type,
            key=key,
            program_id=program_id,
            operation=operation,
            changed_from=changed[0],
            changed_to=changed[1],
            limit=limit,
            cursor=cursor,
        )

    @get(
        "/{participant_id:str}/events", sync_to_thread=True, summary="A participant's events", responses=responses(404)
    )
    @with_connection
    def events(
        self,
        participant_id: FromPath[str],
        principal: NamedDependency[Principal],
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        program_id: IdFilter = None,
        status: Annotated[EventStatus | None, QueryParameter()] = None,
        from_: Annotated[str | None, QueryParameter(name="from", description=TIMESTAMP_HELP)] = None,
        to: Stamp = None,
        event_from: Stamp = None,
        event_to: Stamp = None,
    ) -> Page[EventOut]:
        person = get_participant_row(principal.organisation_id, participant_id)
        created = parse_timestamp("from", from_), parse_timestamp("to", to)
        happened = parse_timestamp("event_from", event_from), parse_timestamp("event_to", event_to)
        check_range("from", *created)
        check_range("event_from", *happened)
        filters = EventFilters(
            program_id=program_id,
            status=status,
            participant_id=person.id,
            participant_external_id=person.external_id,
            created_from=created[0],
            created_to=created[1],
            event_from=happened[0],
            event_to=happened[1],
        )
        return list_events(
            principal.organisation_id, filters, sort_by="created_at", descending=True, limit=limit, cursor=cursor
        )
