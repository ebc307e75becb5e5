"""`/v1/rules`: create, list, get, patch (versions kept), validate, simulate, history, reset-budget."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Principal
from api.db import with_connection
from api.errors import responses
from api.pagination import LIMIT_DEFAULT, CursorParam, IdFilter, LimitParam, Page, SortDirParam
from api.queries.events import check_range
from api.queries.rules import create_rule, get_rule_row, list_rules, patch_rule, reset_budget, rule_history, rule_out
from api.queries.simulate import simulate_rule, validate_condition
from api.schemas.common import TIMESTAMP_HELP, parse_timestamp
from api.schemas.rules import (
    BudgetOut,
    RuleCreate,
    RuleHistoryOut,
    RuleOut,
    RulePatch,
    RuleStatus,
    SimulateRequest,
    SimulateResult,
    ValidateRequest,
    ValidateResult,
)


class RuleController(Controller):
    path = "/v1/rules"
    tags = ("rules",)

    @post("/", sync_to_thread=True, summary="Create a rule", responses=responses(404, 409))
    @with_connection
    def create_rule(self, data: JSONBody[RuleCreate], principal: NamedDependency[Principal]) -> RuleOut:
        """The rule is compiled with its program before it is stored: a CEL or reference error is a
        400 `invalid_rule` with every problem. `order` defaults to the program's highest + 10."""
        return create_rule(principal, data)

    @get("/", sync_to_thread=True, summary="List rules")
    @with_connection
    def list_rules(
        self,
        principal: NamedDependency[Principal],
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        program_id: IdFilter = None,
        status: Annotated[RuleStatus | None, QueryParameter()] = None,
        include_archived: Annotated[bool, QueryParameter()] = False,
        search: Annotated[str | None, QueryParameter(max_length=255)] = None,
        sort_by: Annotated[Literal["order", "created_at", "name"], QueryParameter()] = "order",
        sort_dir: SortDirParam = "asc",
    ) -> Page[RuleOut]:
        """Ordered by `order` by default; ARCHIVED rules only with `status` or `include_archived`."""
        return list_rules(
            principal.organisation_id,
            program_id=program_id,
            status=status,
            include_archived=include_archived,
            search=search,
            sort_by=sort_by,
            descending=sort_dir == "desc",
            limit=limit,
            cursor=cursor,
        )

    @post("/validate", status_code=200, sync_to_thread=False, summary="Check a CEL condition")
    def validate(self, data: JSONBody[ValidateRequest], principal: NamedDependency[Principal]) -> ValidateResult:
        """Syntax and names only; nothing is stored."""
        return validate_condition(data.condition)

    @get("/{rule_id:str}", sync_to_thread=True, summary="Get a rule", responses=responses(404))
    @with_connection
    def get_rule(self, rule_id: FromPath[str], principal: NamedDependency[Principal]) -> RuleOut:
        return rule_out(get_rule_row(principal.organisation_id, rule_id))

    @patch(
        "/{rule_id:str}", sync_to_thread=True, summary="Update a rule (a new version)", responses=responses(404, 409)
    )
    @with_connection
    def patch_rule(
        self, rule_id: FromPath[str], data: JSONBody[RulePatch], principal: NamedDependency[Principal]
    ) -> RuleOut:
        """Partial; `actions` and `budgets` replace. Archived rules and rules of archived programs
        cannot change (409)."""
        return patch_rule(principal, rule_id, data)

    @post(
        "/{rule_id:str}/simulate",
        status_code=200,
        sync_to_thread=True,
        summary="Simulate a rule",
        responses=responses(404),
    )
    @with_connection
    def simulate(
        self, rule_id: FromPath[str], data: JSONBody[SimulateRequest], principal: NamedDependency[Principal]
    ) -> SimulateResult:
        """Evaluate the rule against `event` and an optional `participant_state`; nothing is written."""
        return simulate_rule(principal.organisation_id, rule_id, data)

    @get("/{rule_id:str}/history", sync_to_thread=True, summary="A rule's versions", responses=responses(404))
    @with_connection
    def history(
        self,
        rule_id: FromPath[str],
        principal: NamedDependency[Principal],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        cursor: CursorParam = None,
        change_type: Annotated[
            Literal["created", "updated", "archived", "suspended", "activated"] | None, QueryParameter()
        ] = None,
        from_: Annotated[str | None, QueryParameter(name="from", description=TIMESTAMP_HELP)] = None,
        to: Annotated[str | None, QueryParameter(description=TIMESTAMP_HELP)] = None,
    ) -> Page[RuleHistoryOut]:
        """Newest version first; each entry holds the full rule as it was (`snapshot`)."""
        changed = parse_timestamp("from", from_), parse_timestamp("to", to)
        check_range("from", *changed)
        return rule_history(
            principal.organisation_id,
            rule_id,
            change_type=change_type,
            changed_from=changed[0],
            changed_to=changed[1],
            limit=limit,
            cursor=cursor,
        )

    @post(
        "/{rule_id:str}/reset-budget",
        status_code=200,
        sync_to_thread=True,
        summary="Reset a rule's budget",
        responses=responses(404),
    )
    @with_connection
    def reset_budget(
        self, rule_id: FromPath[str], principal: NamedDependency[Principal], asset_id: Annotated[str, QueryParameter()]
    ) -> BudgetOut:
        return reset_budget(principal.organisation_id, rule_id, asset_id)
