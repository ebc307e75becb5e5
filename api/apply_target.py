"""The apply target: the API's own functions for one organisation on the database, with the same
JSON the HTTP API takes and answers. `api.queries.apply.apply_bundle` plans and applies through it
in one transaction (`POST /v1/programs/apply`, `accrual apply --org`). Its methods run on the
caller's connection, inside the caller's transaction."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import msgspec

from api.auth import Principal
from api.errors import ApiError
from api.pagination import Page
from api.queries import automations, programs, rules, spending, tiers
from api.schemas.automations import AutomationPatch
from api.schemas.programs import AssetCreate, AssetPatch, ProgramCreate, ProgramPatch
from api.schemas.rules import RuleCreate, RulePatch
from api.schemas.spending import RewardCreate, RewardPatch
from api.schemas.tiers import TierCreate, TierPatch
from engine.errors import EngineError
from engine.model.automation import AutomationSpec
from engine.rules.plan import ApplyError
from engine.store import catalog
from engine.store.db import write_transaction
from engine.store.models import Organisation

_ID = re.compile(r"^/v1/(programs|assets|rules)(?:/([^/]+))?$")
_LINK = re.compile(r"^/v1/assets/([^/]+)/programs$")
_AUTOMATION = re.compile(r"^/v1/programs/([^/]+)/automations(?:/([^/]+))?$")
_REWARD = re.compile(r"^/v1/programs/([^/]+)/rewards(?:/([^/]+))?$")
_TIER = re.compile(r"^/v1/programs/([^/]+)/tiers(?:/([^/]+))?(/archive)?$")


class DatabaseTarget:
    """Apply for organisation `org_name` (created when missing) on the bound database."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    @classmethod
    def for_organisation(cls, org_name: str) -> DatabaseTarget:
        """The target of organisation `org_name`, created when missing (`accrual apply --org`)."""
        with write_transaction():
            org = Organisation.get_or_none(Organisation.name == org_name) or Organisation.create(name=org_name)
        return cls(Principal(organisation_id=org.id, api_key_id=""))

    def _all(self, fetch: Callable[[str | None], Page[Any]]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = fetch(cursor)
            items += msgspec.to_builtins(page.data)
            cursor = page.pagination.next_cursor
            if not cursor:
                return items

    def programs(self) -> list[dict[str, Any]]:
        org = self.principal.organisation_id
        return self._all(
            lambda cursor: programs.list_programs(
                org,
                status=None,
                include_archived=True,
                search=None,
                sort_by="created_at",
                descending=False,
                limit=200,
                cursor=cursor,
            )
        )

    def assets(self, program_id: str | None) -> list[dict[str, Any]]:
        org = self.principal.organisation_id
        return self._all(
            lambda cursor: programs.list_assets(
                org, program_id=program_id, status=None, search=None, limit=200, cursor=cursor
            )
        )

    def rules(self, program_id: str) -> list[dict[str, Any]]:
        org = self.principal.organisation_id
        return self._all(
            lambda cursor: rules.list_rules(
                org,
                program_id=program_id,
                status=None,
                include_archived=True,
                search=None,
                sort_by="order",
                descending=False,
                limit=200,
                cursor=cursor,
            )
        )

    def tiers(self, program_id: str) -> list[dict[str, Any]]:
        org = self.principal.organisation_id
        return self._all(lambda cursor: tiers.list_tiers(org, program_id, status=None, limit=200, cursor=cursor))

    def automations(self, program_id: str) -> list[dict[str, Any]]:
        org = self.principal.organisation_id
        return self._all(
            lambda cursor: automations.list_automations(
                org,
                program_id,
                search=None,
                trigger_type=None,
                scope=None,
                status=None,
                source="api",
                limit=200,
                cursor=cursor,
            )
        )

    def rewards(self, program_id: str) -> list[dict[str, Any]]:
        org = self.principal.organisation_id
        return self._all(
            lambda cursor: spending.list_rewards(
                org,
                program_id,
                status=None,
                include_archived=True,
                search=None,
                sort_by="name",
                descending=False,
                limit=200,
                cursor=cursor,
            )
        )

    def send(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        operation = self._operation(method, path, body)
        try:
            result = operation()
        except msgspec.ValidationError as exc:
            raise ApplyError(f"{method} {path}: {exc}", code="bad_request") from exc
        except (ApiError, EngineError) as exc:
            raise ApplyError(f"{method} {path}: {exc}", code=str(exc.code).lower()) from exc
        return msgspec.to_builtins(result)

    def _operation(self, method: str, path: str, body: dict[str, Any]) -> Callable[[], Any]:
        """The call that serves `method path`; `no such operation` for a path the API does not serve."""
        org = self.principal.organisation_id
        link = _LINK.match(path)
        if link is not None and method == "POST":
            asset_id = link.group(1)
            return lambda: programs.asset_out(catalog.link_asset(org, str(body.get("program_id")), asset_id))
        automation = _AUTOMATION.match(path)
        if automation is not None:
            program_id, automation_id = automation.groups()
            return lambda: self._dispatch_automation(method, program_id, automation_id, body, org)
        reward = _REWARD.match(path)
        if reward is not None:
            program_id, reward_id = reward.groups()
            if method == "POST" and reward_id is None:
                return lambda: spending.create_reward(org, program_id, msgspec.convert(body, RewardCreate))
            if method == "PATCH" and reward_id is not None:
                return lambda: spending.patch_reward(org, program_id, reward_id, msgspec.convert(body, RewardPatch))
        tier = _TIER.match(path)
        if tier is not None:
            program_id, key, archive = tier.groups()
            return lambda: self._dispatch_tier(method, program_id, key, archive, body, org)
        match = _ID.match(path)
        if match is not None:
            resource, resource_id = match.groups()
            return lambda: self._dispatch(method, resource, resource_id, body, org)
        raise ApplyError(f"no such operation: {method} {path}", code="bad_request")

    def _dispatch(self, method: str, resource: str, resource_id: str | None, body: dict[str, Any], org: str) -> Any:
        if (method, resource, resource_id is None) == ("POST", "programs", True):
            return programs.create_program(org, msgspec.convert(body, ProgramCreate))
        if (method, resource) == ("PATCH", "programs") and resource_id:
            return programs.patch_program(org, resource_id, msgspec.convert(body, ProgramPatch))
        if (method, resource, resource_id is None) == ("POST", "assets", True):
            return programs.create_asset(org, msgspec.convert(body, AssetCreate))
        if (method, resource) == ("PATCH", "assets") and resource_id:
            return programs.patch_asset(org, resource_id, msgspec.convert(body, AssetPatch))
        if (method, resource, resource_id is None) == ("POST", "rules", True):
            return rules.create_rule(self.principal, msgspec.convert(body, RuleCreate))
        if (method, resource) == ("PATCH", "rules") and resource_id:
            return rules.patch_rule(self.principal, resource_id, msgspec.convert(body, RulePatch))
        raise ApplyError(f"no such operation: {method} /v1/{resource}", code="bad_request")

    def _dispatch_tier(
        self, method: str, program_id: str, key: str | None, archive: str | None, body: dict[str, Any], org: str
    ) -> Any:
        if (method, key, archive) == ("POST", None, None):
            return tiers.create_tier(org, program_id, msgspec.convert(body, TierCreate))
        if method == "PATCH" and key and not archive:
            return tiers.patch_tier(org, program_id, key, msgspec.convert(body, TierPatch))
        if method == "POST" and key and archive:
            return tiers.archive_tier(org, program_id, key)
        raise ApplyError(f"no such operation: {method} /v1/programs/{program_id}/tiers", code="bad_request")

    def _dispatch_automation(
        self, method: str, program_id: str, automation_id: str | None, body: dict[str, Any], org: str
    ) -> Any:
        if (method, automation_id) == ("POST", None):
            return automations.create_automation(org, program_id, msgspec.convert(body, AutomationSpec))
        if method == "PATCH" and automation_id:
            patch = msgspec.convert(body, AutomationPatch)
            return automations.patch_automation(org, program_id, automation_id, patch)
        if method == "DELETE" and automation_id:
            return automations.archive_automation(org, program_id, automation_id)
        raise ApplyError(f"no such operation: {method} /v1/programs/{program_id}/automations", code="bad_request")
