"""`POST /v1/transfers`: one source gives value to 1-100 recipients in one journal entry."""

from __future__ import annotations

from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody

from api.auth import Principal
from api.db import with_connection
from api.errors import responses
from api.queries.spending import transfer_parties
from api.schemas.spending import TransferRequest
from api.spending_events import spending_publisher
from engine.store import transfers
from engine.store.spending_results import TransferResult


class TransferController(Controller):
    path = "/v1/transfers"
    tags = ("transfers",)

    @post(
        "/",
        status_code=201,
        sync_to_thread=True,
        summary="Transfer value between participants and groups",
        responses={
            **responses(404, 409, 422),
            200: ResponseSpec(data_container=TransferResult, generate_examples=False, description="Idempotent replay"),
        },
    )
    @with_connection
    def transfer(
        self, data: JSONBody[TransferRequest], principal: NamedDependency[Principal]
    ) -> Response[TransferResult]:
        """Atomic and zero-sum: every recipient is paid or none is. A party is a participant or a
        group (`source_group_id`, a recipient's `group_id`: the group's balance in this program).
        400 `self_transfer` (the source among the recipients), `duplicate_recipient`; 409
        `participant_inactive`, `group_archived`, `program_inactive`, `asset_not_linked`; 422
        `insufficient_funds`.
        On LOT assets each recipient gets a new lot earned now, without the source's expiry."""
        source, recipients = transfer_parties(data)
        result, replayed = transfers.transfer(
            principal.organisation_id,
            program_id=data.program_id,
            asset_id=data.asset_id,
            description=data.description,
            source=source,
            recipients=recipients,
            idempotency_key=data.idempotency_key,
            api_key_id=principal.api_key_id,
            on_applied=spending_publisher(principal.organisation_id),
        )
        return Response(result, status_code=200 if replayed else 201)
