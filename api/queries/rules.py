"""Rules for the API: create and patch through `engine.store.catalog` (every version kept), with the
program compiled inside the same transaction so a rule that does not compile is never stored;
reads with their list filters; history; manual budget reset."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec
from msgspec import UNSET

from api.auth import Principal
from api.errors import BadRequest, Conflict, NotFound
from api.pagination import Page, paginate
from api.queries.programs import get_program_row
from api.schemas.rules import BudgetOut, RuleCreate, RuleHistoryOut, RuleOut, RulePatch
from engine.model.bundle import Action, Rule
from engine.rules.compiler import ExpressionProblem
from engine.rules.program import ProgramCompileError, compile_program
from engine.rules.type_check import check_program_types
from engine.store import catalog
from engine.store.budgets import effective_consumed, next_reset_at
from engine.store.db import utcnow, write_transaction
from engine.store.fields import canonical_decimal
from engine.store.models import ParticipantBudget, RuleBudget, RuleHistory, RuleRecord

RULE_FIELD_NAMES = tuple(f for f in Rule.__struct_fields__)


def budgets_out(record: RuleRecord) -> list[BudgetOut]:
    now = utcnow()
    return [
        BudgetOut(
            asset_id=row.asset_symbol,
            limit=canonical_decimal(row.limit),
            consumed=canonical_decimal(effective_consumed(row, now)),
            schedule_type=row.schedule_type,
            cron_expression=row.cron_expression,
            interval=row.interval,
            next_reset_at=row.next_reset_at,
            period=row.period,
            per=row.per,
        )
        for row in RuleBudget.select().where(RuleBudget.rule == record.id).order_by(RuleBudget.asset_symbol)
    ]


def rule_out(record: RuleRecord) -> RuleOut:
    return RuleOut(
        id=record.id,
        program_id=record.program_id,
        version=record.version,
        name=record.name,
        description=record.description,
        condition=record.condition,
        actions=msgspec.convert(record.actions, list[Action]),
        order=record.order,
        stop_after_match=record.stop_after_match,
        active_from=record.active_from,
        active_to=record.active_to,
        budgets=budgets_out(record),
        status=record.status,
        created_at=record.created_at,
        updated_at=record.updated_at,
        deleted_at=record.deleted_at,
    )


def get_rule_row(org_id: str, rule_id: str) -> RuleRecord:
    record = RuleRecord.get_or_none((RuleRecord.id == rule_id) & (RuleRecord.organisation == org_id))
    if record is None:
        raise NotFound("rule not found")
    return record


def _check_compiles(record: RuleRecord) -> None:
    """Compile and type-check the program with this write in it (against the program's declared
    event types and the fixed shapes of the other variables); a problem of this rule rolls the
    write back (400 `invalid_rule`)."""
    bundle, rule_ids = catalog.program_bundle(record.program)
    index = next((i for i, rule in enumerate(bundle.rules) if rule.name == record.name), None)
    try:
        program = compile_program(bundle, rule_ids=rule_ids)
    except ProgramCompileError as exc:
        _refuse([p for p in exc.problems if p.rule_index == index], "does not compile", exc)
        return
    _refuse([p for p in check_program_types(program).errors if p.rule_index == index], "does not type-check", None)


def _refuse(mine: list[ExpressionProblem], what: str, cause: Exception | None) -> None:
    if not mine:
        return
    problems = [
        {"field": ".".join(str(part) for part in p.path[2:]) or "rule", "code": p.code, "message": str(p.error)}
        for p in mine
    ]
    raise BadRequest(
        f"the rule {what}: {problems[0]['field']}: {problems[0]['message']}",
        code="invalid_rule",
        details={"problems": problems},
    ) from cause


def create_rule(principal: Principal, data: RuleCreate) -> RuleOut:
    org = principal.organisation_id
    fields = {name: getattr(data, name) for name in RULE_FIELD_NAMES}
    with write_transaction():
        get_program_row(org, data.program_id)
        _check_name_free(data.program_id, data.name, None)
        record = catalog.create_rule(org, data.program_id, Rule(**fields), api_key_id=principal.api_key_id)
        _check_compiles(record)
    return rule_out(record)


def _check_name_free(program_id: str, name: str, rule_id: str | None) -> None:
    """A name is taken by another rule of the program that is not archived: 409 (a conflict with
    what is stored, as for every resource)."""
    taken = RuleRecord.select().where(
        (RuleRecord.program == program_id) & (RuleRecord.name == name) & (RuleRecord.status != "ARCHIVED")
    )
    if rule_id is not None:
        taken = taken.where(RuleRecord.id != rule_id)
    if taken.exists():
        raise Conflict(
            f"the program already has a rule named {name!r}", code="already_exists", details={"field": "name"}
        )


def patch_rule(principal: Principal, rule_id: str, data: RulePatch) -> RuleOut:
    changes: dict[str, Any] = {
        name: msgspec.to_builtins(getattr(data, name))
        for name in RULE_FIELD_NAMES
        if getattr(data, name, UNSET) is not UNSET
    }
    if not changes:
        raise BadRequest("a patch needs at least one field", details={"reason": "required"})
    with write_transaction():
        current = get_rule_row(principal.organisation_id, rule_id)
        if "name" in changes and changes.get("status", current.status) != "ARCHIVED":
            _check_name_free(current.program_id, changes["name"], current.id)
        record = catalog.update_rule(principal.organisation_id, rule_id, changes, api_key_id=principal.api_key_id)
        if record.status != "ARCHIVED":
            _check_compiles(record)
    return rule_out(record)


def list_rules(
    org_id: str,
    *,
    program_id: str | None,
    status: str | None,
    include_archived: bool,
    search: str | None,
    sort_by: Literal["order", "created_at", "name"],
    descending: bool,
    limit: int,
    cursor: str | None,
) -> Page[RuleOut]:
    query = RuleRecord.select().where(RuleRecord.organisation == org_id)
    if program_id is not None:
        query = query.where(RuleRecord.program == program_id)
    if status is not None:
        query = query.where(RuleRecord.status == status)
    elif not include_archived:
        query = query.where(RuleRecord.status != "ARCHIVED")
    if search:
        query = query.where(RuleRecord.name.contains(search))
    sort = {"order": RuleRecord.order, "created_at": RuleRecord.created_at, "name": RuleRecord.name}[sort_by]
    return paginate(
        query,
        keys=[sort, RuleRecord.id],
        descending=descending,
        limit=limit,
        cursor=cursor,
        listing="rules",
        render=rule_out,
    )


def rule_history(
    org_id: str,
    rule_id: str,
    *,
    change_type: str | None,
    changed_from: datetime | None,
    changed_to: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page[RuleHistoryOut]:
    record = get_rule_row(org_id, rule_id)
    query = RuleHistory.select().where(RuleHistory.rule == record.id)
    if change_type is not None:
        query = query.where(RuleHistory.change_type == change_type)
    if changed_from is not None:
        query = query.where(RuleHistory.changed_at >= changed_from)
    if changed_to is not None:
        query = query.where(RuleHistory.changed_at <= changed_to)
    return paginate(
        query,
        keys=[RuleHistory.version],
        descending=True,
        limit=limit,
        cursor=cursor,
        listing="rule-history",
        render=_history_out,
    )


def _history_out(row: RuleHistory) -> RuleHistoryOut:
    return RuleHistoryOut(
        id=row.id,
        rule_id=row.rule_id,
        program_id=row.program_id,
        version=row.version,
        change_type=row.change_type,
        changes=row.changes or {},
        snapshot=row.snapshot,
        changed_by_api_key_id=row.changed_by_api_key_id,
        changed_at=row.changed_at,
    )


def reset_budget(org_id: str, rule_id: str, asset_id: str) -> BudgetOut:
    """Set a budget's consumption to 0 and start a new period at the current time."""
    from api.queries.programs import resolve_asset

    with write_transaction():
        record = get_rule_row(org_id, rule_id)
        symbol = resolve_asset(org_id, asset_id).symbol
        rows = list(RuleBudget.select().where((RuleBudget.rule == record.id) & (RuleBudget.asset_symbol == symbol)))
        if not rows:
            raise NotFound(f"the rule has no budget for {symbol}", details={"field": "asset_id"})
        now, timezone = utcnow(), record.program.timezone
        for row in rows:  # the program-wide budget, and every participant's of a per-participant one
            row.consumed, row.period_started_at = 0, now
            row.next_reset_at = next_reset_at(
                row.schedule_type, row.cron_expression, row.interval, now, row.period, timezone
            )
            row.save()
            ParticipantBudget.delete().where(ParticipantBudget.budget == row.id).execute()
        row = RuleBudget.get_by_id(rows[0].id)
    return BudgetOut(
        asset_id=row.asset_symbol,
        limit=canonical_decimal(row.limit),
        consumed=canonical_decimal(row.consumed),
        schedule_type=row.schedule_type,
        cron_expression=row.cron_expression,
        interval=row.interval,
        next_reset_at=row.next_reset_at,
        period=row.period,
        per=row.per,
    )
