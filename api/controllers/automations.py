"""`/v1/programs/{program_id}/automations`: create, list, get, patch (pause and resume too),
archive, trigger now, cancel a fan-out, and the subscriptions of participant_state automations
(A147)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Principal
from api.db import with_connection
from api.errors import responses
from api.pagination import LIMIT_DEFAULT, CursorParam, LimitParam, Page
from api.queries import automations
from api.schemas.automations import AutomationOut, AutomationPatch, AutomationStatusFilter, SubscriptionOut
from engine.model.automation import AutomationSpec, Scope, Source, SubscriptionStatus, TriggerType

_ONE = "/{automation_id:str}"


class AutomationController(Controller):
    path = "/v1/programs/{program_id:str}/automations"
    tags = ("automations",)

    @post("/", sync_to_thread=True, summary="Create an automation", responses=responses(404, 409))
    @with_connection
    def create_automation(
        self, program_id: FromPath[str], data: JSONBody[AutomationSpec], principal: NamedDependency[Principal]
    ) -> AutomationOut:
        """400 `invalid_automation` with every problem (trigger x scope, cron, time zone, schedule,
        CEL); 404 for a `participant_id` the organisation does not have; 409 `automation_exists`
        for a live name. A program-scope firing is one event of no participant, or of the one
        participant a one_time automation names."""
        return automations.create_automation(principal.organisation_id, program_id, data)

    @get("/", sync_to_thread=True, summary="List a program's automations", responses=responses(404))
    @with_connection
    def list_automations(
        self,
        program_id: FromPath[str],
        principal: NamedDependency[Principal],
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        search: Annotated[str | None, QueryParameter(max_length=255)] = None,
        trigger_type: Annotated[TriggerType | None, QueryParameter()] = None,
        scope_filter: Annotated[Scope | None, QueryParameter(name="scope")] = None,
        status: Annotated[AutomationStatusFilter | None, QueryParameter()] = None,
        source: Annotated[Source | None, QueryParameter()] = None,
    ) -> Page[AutomationOut]:
        """Newest first; the filters combine."""
        return automations.list_automations(
            principal.organisation_id,
            program_id,
            search=search,
            trigger_type=trigger_type,
            scope=scope_filter,
            status=status,
            source=source,
            limit=limit,
            cursor=cursor,
        )

    @get(_ONE, sync_to_thread=True, summary="Get an automation with its fan-out progress", responses=responses(404))
    @with_connection
    def get_automation(
        self, program_id: FromPath[str], automation_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> AutomationOut:
        return automations.get_automation(principal.organisation_id, program_id, automation_id)

    @patch(_ONE, sync_to_thread=True, summary="Update, pause or resume an automation", responses=responses(404, 409))
    @with_connection
    def patch_automation(
        self,
        program_id: FromPath[str],
        automation_id: FromPath[str],
        data: JSONBody[AutomationPatch],
        principal: NamedDependency[Principal],
    ) -> AutomationOut:
        """Pausing stops future firings, not a fan-out under way; resuming fires from now on. A
        changed trigger re-times the next firing. 409 `automation_archived` once archived, 409
        `automation_read_only` for a SCHEDULE_EVENT follow-up (`source: rule_action`)."""
        return automations.patch_automation(principal.organisation_id, program_id, automation_id, data)

    @delete(_ONE, status_code=200, sync_to_thread=True, summary="Archive an automation", responses=responses(404, 409))
    @with_connection
    def archive_automation(
        self, program_id: FromPath[str], automation_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> AutomationOut:
        """One way; an archived automation stays readable and a fan-out under way stops."""
        return automations.archive_automation(principal.organisation_id, program_id, automation_id)

    @post(f"{_ONE}/trigger", status_code=200, sync_to_thread=True, summary="Fire now", responses=responses(404, 409))
    @with_connection
    def trigger_automation(
        self, program_id: FromPath[str], automation_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> AutomationOut:
        """The next scheduler pass fires it. 409 `automation_not_idle` unless active and idle, 409
        `automation_not_triggerable` for a participant_state or a program-scope one_time automation,
        409 `automation_read_only` for a `rule_action` one."""
        return automations.trigger_automation(principal.organisation_id, program_id, automation_id)

    @post(
        f"{_ONE}/cancel",
        status_code=200,
        sync_to_thread=True,
        summary="Cancel the fan-out under way",
        responses=responses(404, 409),
    )
    @with_connection
    def cancel_automation(
        self, program_id: FromPath[str], automation_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> AutomationOut:
        """Participants already reached keep their events; the rest get none; the automation
        fires again on its schedule. 409 `automation_not_executing` when nothing is under way."""
        return automations.cancel_automation(principal.organisation_id, program_id, automation_id)

    @post(
        f"{_ONE}/refresh-subscriptions",
        status_code=202,
        sync_to_thread=True,
        summary="Re-evaluate a participant_state automation's subscriptions",
        responses=responses(400, 404),
    )
    @with_connection
    def refresh_subscriptions(
        self, program_id: FromPath[str], automation_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> None:
        """The filter runs again over the program's participants at the next pass: newly chosen
        ones subscribe, others are cancelled. 400 `not_participant_state` for other automations,
        400 `automation_not_active` when paused or archived."""
        automations.refresh_subscriptions(principal.organisation_id, program_id, automation_id)

    @get(
        f"{_ONE}/subscriptions",
        sync_to_thread=True,
        summary="List a participant_state automation's subscriptions",
        responses=responses(404),
    )
    @with_connection
    def list_subscriptions(
        self,
        program_id: FromPath[str],
        automation_id: FromPath[str],
        principal: NamedDependency[Principal],
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        status: Annotated[SubscriptionStatus | None, QueryParameter()] = None,
    ) -> Page[SubscriptionOut]:
        """Oldest first; empty for automations of other trigger types."""
        return automations.list_subscriptions(
            principal.organisation_id, program_id, automation_id, status=status, limit=limit, cursor=cursor
        )
