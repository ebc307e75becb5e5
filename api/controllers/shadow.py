"""A program's shadow ruleset (A233): `PUT /v1/programs/{id}/shadow` applies a bundle as the
shadow (the live rules untouched), `GET` shows it, `DELETE` clears it, `POST .../promote` makes it
the live rules in one atomic apply; `GET .../report` is live against shadow by rule and by asset,
`GET .../events?differs=true` the events that differ."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Principal
from api.db import with_connection
from api.errors import responses
from api.pagination import LIMIT_DEFAULT, CursorParam, LimitParam, Page
from api.queries import shadow
from api.schemas.apply import ApplyOut, BundleIn
from api.schemas.shadow import ShadowEventOut, ShadowOut, ShadowReportOut

VersionParam = Annotated[
    int | None, QueryParameter(ge=1, description="The shadow's version (default: the latest, ACTIVE or ended)")
]


class ShadowController(Controller):
    path = "/v1/programs/{program_id:str}/shadow"
    tags = ("shadow",)

    @put("/", sync_to_thread=True, summary="Apply a bundle as the program's shadow", responses=responses(400, 404, 409))
    @with_connection
    def apply_shadow(
        self, program_id: FromPath[str], data: JSONBody[BundleIn], principal: NamedDependency[Principal]
    ) -> ShadowOut:
        """The bundle (checked as `POST /v1/programs/apply` checks one, and naming this program by
        its key) becomes the program's ACTIVE shadow, replacing the one it had. The worker
        evaluates it beside the live rules on every event, after the live write, and records only
        what it would have done; the live rules, the ledger and participants' state are untouched."""
        return shadow.apply_shadow(principal, program_id, data.bundle())

    @get("/", sync_to_thread=True, summary="The program's shadow", responses=responses(404))
    @with_connection
    def get_shadow(self, program_id: FromPath[str], principal: NamedDependency[Principal]) -> ShadowOut:
        """The ACTIVE shadow; 404 `shadow_not_found` when the program has none."""
        return shadow.get_shadow(principal.organisation_id, program_id)

    @delete("/", status_code=200, sync_to_thread=True, summary="Clear the program's shadow", responses=responses(404))
    @with_connection
    def clear_shadow(self, program_id: FromPath[str], principal: NamedDependency[Principal]) -> ShadowOut:
        """Ends the ACTIVE shadow (CLEARED): no event is evaluated under it any more; its
        evaluations and report stay readable by version."""
        return shadow.remove_shadow(principal.organisation_id, program_id)

    @post(
        "/promote",
        status_code=200,
        sync_to_thread=True,
        summary="Make the shadow the live rules",
        responses=responses(400, 404, 409),
    )
    @with_connection
    def promote_shadow(self, program_id: FromPath[str], principal: NamedDependency[Principal]) -> ApplyOut:
        """Applies the shadow's bundle as `POST /v1/programs/apply` would and ends the shadow
        (PROMOTED), in one transaction: every step and the shadow's end commit together, or none."""
        return shadow.promote_shadow(principal, program_id)

    @get("/report", sync_to_thread=True, summary="Live against shadow", responses=responses(404))
    @with_connection
    def shadow_report(
        self,
        program_id: FromPath[str],
        principal: NamedDependency[Principal],
        version: VersionParam = None,
        sample: Annotated[int, QueryParameter(ge=0, le=200, description="Events that differ, shown")] = 20,
    ) -> ShadowReportOut:
        """By rule (matched, skipped, erroring) and by asset (value credited, debited, held,
        forfeited), `before` live and `after` the shadow, with the events that differ and the
        events the shadow could not evaluate."""
        return shadow.report(principal.organisation_id, program_id, version=version, sample=sample)

    @get("/events", sync_to_thread=True, summary="Events evaluated under the shadow", responses=responses(400, 404))
    @with_connection
    def shadow_events(
        self,
        program_id: FromPath[str],
        principal: NamedDependency[Principal],
        version: VersionParam = None,
        differs: Annotated[bool | None, QueryParameter(description="Only events that differ (true) or not")] = None,
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
    ) -> Page[ShadowEventOut]:
        """Each event with its live and shadow outcomes and the value each would have moved."""
        return shadow.list_events(
            principal.organisation_id, program_id, version=version, differs=differs, limit=limit, cursor=cursor
        )
