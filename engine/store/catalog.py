"""Programs, assets and rules as stored rows, and the `Bundle` rebuilt from them (tier types are
`tier_types`).

Rules keep every version: `create_rule` writes version 1, each `update_rule` the next version,
and each version is a `rule_history` row holding the full `engine.model.bundle.Rule` (`snapshot`), so a
rule evaluation can name the exact version it ran (`rule_history_id`). Every change bumps the
program's `rules_version`, which keys the compiled-program cache.

    rule = create_rule(org.id, program.id, bundle.Rule(name="welcome", condition="true", actions=[...]))
    rule = update_rule(org.id, rule.id, {"condition": "event.amount > 10.0"})
    rule.version                                       # 2
    rule_to_bundle(rule)                               # engine.model.bundle.Rule, round-trips
"""

from __future__ import annotations

from typing import Any, Literal, cast

import msgspec
import peewee

from engine.limits import INTEGER_COLUMN_MAX
from engine.model.bundle import (
    Action,
    Budget,
    Bundle,
    InventoryMode,
    IssuancePolicy,
    ProgramSettings,
    Rule,
    ScheduleType,
    SpendingOrder,
    Status,
    UnknownParticipantPolicy,
)
from engine.model.bundle import Asset as AssetSpec
from engine.store import lookups
from engine.store.budgets import next_reset_at
from engine.store.db import utcnow, write_transaction
from engine.store.errors import Conflict, LedgerRejected
from engine.store.models import Asset, Program, ProgramAsset, RuleBudget, RuleHistory, RuleRecord, TierTypeRecord
from engine.store.programs import require_modifiable, touch_program
from engine.store.tier_types import tier_to_bundle

RULE_FIELDS = (
    "name",
    "description",
    "condition",
    "actions",
    "order",
    "stop_after_match",
    "active_from",
    "active_to",
    "budgets",
    "status",
)
STATUS_CHANGE = {"ARCHIVED": "archived", "SUSPENDED": "suspended", "ACTIVE": "activated"}


def create_asset(organisation_id: str, program_id: str, spec: AssetSpec) -> Asset:
    """Create an organisation-level asset and link it to `program_id`."""
    with write_transaction():
        program = lookups.program(organisation_id, program_id)
        if Asset.get_or_none((Asset.organisation == organisation_id) & (Asset.symbol == spec.symbol)):
            raise Conflict(f"an asset with symbol {spec.symbol} exists", code="asset_exists")
        asset = Asset.create(
            organisation=organisation_id,
            symbol=spec.symbol,
            name=spec.name,
            scale=spec.scale,
            inventory_mode=spec.inventory_mode,
            spending_order=spec.spending_order,
            issuance_policy=spec.issuance_policy,
            max_transaction_amount=spec.max_transaction_amount,
        )
        ProgramAsset.create(program=program.id, asset=asset.id)
        touch_program(program.id)
        return asset


def link_asset(organisation_id: str, program_id: str, asset_id: str) -> Asset:
    """Link an existing asset of the organisation to one more program (an asset is the
    organisation's; programs share it, D28)."""
    with write_transaction():
        program = lookups.program(organisation_id, program_id)
        asset = Asset.get_or_none((Asset.organisation == organisation_id) & (Asset.id == asset_id))
        if asset is None:
            raise lookups.NotFound(f"asset {asset_id} not found", resource="asset", id=asset_id)
        if asset.status == "ARCHIVED":
            raise Conflict(f"asset {asset.symbol} is archived", code="asset_archived")
        if (
            not ProgramAsset.select()
            .where((ProgramAsset.program == program.id) & (ProgramAsset.asset == asset.id))
            .exists()
        ):
            ProgramAsset.create(program=program.id, asset=asset.id)
            touch_program(program.id)
        return asset


def create_rule(organisation_id: str, program_id: str, rule: Rule, api_key_id: str | None = None) -> RuleRecord:
    """Store a new rule (version 1). `order` defaults to the program's highest order + 10 and must
    be unique among the program's ACTIVE rules (`Conflict` code `order_conflict`)."""
    with write_transaction():
        program = lookups.program(organisation_id, program_id)
        require_modifiable(program)
        rule = _normalise_assets(organisation_id, program.id, rule)
        if rule.order is None:
            highest = (
                RuleRecord.select(peewee.fn.MAX(RuleRecord.order)).where(RuleRecord.program == program.id).scalar()
            )
            if (highest or 0) + 10 > INTEGER_COLUMN_MAX:
                raise Conflict(f"no order is left after the highest, {highest}: give one", code="order_conflict")
            rule = msgspec.structs.replace(rule, order=(highest or 0) + 10)
        _check_order(program.id, rule, None)
        record = RuleRecord.create(organisation=organisation_id, program=program.id, **_columns(rule), version=1)
        _write_budgets(record, rule.budgets)
        _history(record, "created", {}, rule, api_key_id)
        touch_program(program.id)
        return record


def update_rule(
    organisation_id: str, rule_id: str, changes: dict[str, Any], api_key_id: str | None = None
) -> RuleRecord:
    """Apply a partial change (any of `RULE_FIELDS`; actions and budgets replace) as a new version."""
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown or not changes:
        raise LedgerRejected(f"unknown or no rule fields: {sorted(unknown)}", code="bad_request")
    with write_transaction():
        record = RuleRecord.get_or_none((RuleRecord.id == rule_id) & (RuleRecord.organisation == organisation_id))
        if record is None:
            raise lookups.NotFound(f"rule {rule_id} not found", resource="rule", id=rule_id)
        if record.status == "ARCHIVED":
            raise Conflict(f"rule {rule_id} is archived and cannot be modified", code="rule_archived")
        require_modifiable(record.program)
        current = rule_to_bundle(record)
        merged = msgspec.to_builtins(current) | msgspec.to_builtins(changes)  # moments as text, as `Rule` reads them
        try:
            new = msgspec.convert(merged, Rule)
        except msgspec.ValidationError as exc:
            raise LedgerRejected(f"invalid rule: {exc}", code="bad_request") from exc
        new = _normalise_assets(organisation_id, record.program_id, new)
        _check_order(record.program_id, new, record.id)
        before, after = _fields(current), _fields(new)
        diff = {key: {"old": before[key], "new": after[key]} for key in RULE_FIELDS if before[key] != after[key]}
        for column, value in _columns(new).items():
            setattr(record, column, value)
        record.version += 1
        record.deleted_at = utcnow() if new.status == "ARCHIVED" else None
        record.save()
        if "budgets" in diff:
            _write_budgets(record, new.budgets)
        change_type = STATUS_CHANGE[new.status] if "status" in diff else "updated"
        _history(record, change_type, diff, new, api_key_id)
        touch_program(record.program_id)
        return record


# The status, policy and schedule columns hold values that a validated bundle or API request
# wrote, so they are read back as the bundle's literal types.


def rule_to_bundle(record: RuleRecord) -> Rule:
    """The stored rule as `engine.model.bundle.Rule` (asset references are symbols)."""
    budgets = [
        Budget(
            asset_id=row.asset_symbol,
            limit=format(row.limit, "f"),
            schedule_type=cast("ScheduleType | None", row.schedule_type),
            cron_expression=row.cron_expression,
            interval=row.interval,
            period=row.period,
            per="participant" if row.per == "participant" else "program",  # the default's own object
        )
        for row in RuleBudget.select().where(RuleBudget.rule == record.id).order_by(RuleBudget.id)
    ]
    return Rule(
        name=record.name,
        condition=record.condition,
        actions=msgspec.convert(record.actions, list[Action]),
        description=record.description,
        order=record.order,
        stop_after_match=record.stop_after_match,
        active_from=record.active_from,
        active_to=record.active_to,
        budgets=budgets,
        status=cast(Status, record.status),
    )


def program_bundle(program: Program) -> tuple[Bundle, dict[str, tuple[str, int]]]:
    """The program as a `Bundle` (assets, tiers, non-archived rules) and `rule_ids` for
    `compile_program`: rule name -> (rule id, version)."""
    assets = (
        Asset.select()
        .join(ProgramAsset, on=(ProgramAsset.asset == Asset.id))
        .where(ProgramAsset.program == program.id)
        .order_by(Asset.symbol)
    )
    # archived tiers too: their SET_TIER actions still compile, and are skipped when evaluated
    tiers = TierTypeRecord.select().where(TierTypeRecord.program == program.id).order_by(TierTypeRecord.key)
    rules = list(
        RuleRecord.select()
        .where((RuleRecord.program == program.id) & (RuleRecord.status != "ARCHIVED"))
        .order_by(RuleRecord.order, RuleRecord.name)
    )
    bundle = Bundle(
        program=ProgramSettings(
            key=program.key or "program",
            name=program.name,
            description=program.description,
            on_unknown_participant=cast(UnknownParticipantPolicy, program.on_unknown_participant),
            status=cast(Status, program.status),
            timezone=program.timezone,
            event_validation=cast("Literal['OFF', 'FLAG', 'REJECT']", program.event_validation),
        ),
        events=program.event_types or {},
        assets=[
            AssetSpec(
                symbol=a.symbol,
                name=a.name,
                scale=a.scale,
                inventory_mode=cast(InventoryMode, a.inventory_mode),
                spending_order=cast(SpendingOrder, a.spending_order),
                issuance_policy=cast(IssuancePolicy, a.issuance_policy),
                max_transaction_amount=None
                if a.max_transaction_amount is None
                else format(a.max_transaction_amount, "f"),
            )
            for a in assets
        ],
        tiers=[tier_to_bundle(t) for t in tiers],
        rules=[rule_to_bundle(r) for r in rules],
    )
    return bundle, {r.name: (r.id, r.version) for r in rules}


# --- internals ------------------------------------------------------------------------------------


def _fields(rule: Rule) -> dict[str, Any]:
    return {key: msgspec.to_builtins(getattr(rule, key)) for key in RULE_FIELDS}


def _columns(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "description": rule.description,
        "condition": rule.condition,
        "actions": msgspec.to_builtins(rule.actions),
        "order": rule.order,
        "stop_after_match": rule.stop_after_match,
        "active_from": rule.active_from,
        "active_to": rule.active_to,
        "status": rule.status,
    }


def _normalise_assets(organisation_id: str, program_id: str, rule: Rule) -> Rule:
    """Asset references (id or symbol) become symbols of assets linked to the program."""
    actions = [
        msgspec.structs.replace(
            action, asset_id=lookups.linked_asset(organisation_id, program_id, action.asset_id).symbol
        )
        if hasattr(action, "asset_id")
        else action
        for action in rule.actions
    ]
    budgets = [
        msgspec.structs.replace(
            budget, asset_id=lookups.linked_asset(organisation_id, program_id, budget.asset_id).symbol
        )
        for budget in rule.budgets
    ]
    return msgspec.structs.replace(rule, actions=actions, budgets=budgets)


def _check_order(program_id: str, rule: Rule, rule_id: str | None) -> None:
    if rule.status != "ACTIVE":
        return
    clash = RuleRecord.select().where(
        (RuleRecord.program == program_id) & (RuleRecord.order == rule.order) & (RuleRecord.status == "ACTIVE")
    )
    if rule_id is not None:
        clash = clash.where(RuleRecord.id != rule_id)
    other = clash.first()
    if other is not None:
        raise Conflict(
            f"order {rule.order} is taken by active rule {other.name!r}", code="order_conflict", rule_id=other.id
        )


def _write_budgets(record: RuleRecord, budgets: list[Budget]) -> None:
    """Replace the rule's budgets, keeping what a kept budget (same asset, `per` and schedule)
    already consumed, its participants' consumption included."""
    kept = {(row.asset_symbol, row.per): row for row in RuleBudget.select().where(RuleBudget.rule == record.id)}
    timezone = Program.select(Program.timezone).where(Program.id == record.program_id).scalar() or "UTC"
    created = set()
    for budget in budgets:
        previous = kept.get((budget.asset_id, budget.per))
        schedule = (budget.schedule_type, budget.cron_expression, budget.interval, budget.period)
        same = previous if previous is not None and _schedule_of(previous) == schedule else None
        if same is not None:
            RuleBudget.update(limit=budget.limit).where(RuleBudget.id == same.id).execute()
            created.add(same.id)
            continue
        if previous is not None:  # a new schedule: a new period (its participants' rows go with it)
            RuleBudget.delete().where(RuleBudget.id == previous.id).execute()
        start = utcnow()
        row = RuleBudget.create(
            rule=record.id,
            asset_symbol=budget.asset_id,
            limit=budget.limit,
            per=budget.per,
            schedule_type=budget.schedule_type,
            cron_expression=budget.cron_expression,
            interval=budget.interval,
            period=budget.period,
            consumed=previous.consumed if previous else 0,
            period_started_at=start,
            next_reset_at=next_reset_at(
                budget.schedule_type, budget.cron_expression, budget.interval, start, budget.period, timezone
            ),
        )
        created.add(row.id)
    RuleBudget.delete().where((RuleBudget.rule == record.id) & RuleBudget.id.not_in(list(created) or [""])).execute()


def _schedule_of(row: RuleBudget) -> tuple[str | None, str | None, str | None, str | None]:
    return row.schedule_type, row.cron_expression, row.interval, row.period


def _history(record: RuleRecord, change_type: str, changes: dict, rule: Rule, api_key_id: str | None) -> None:
    RuleHistory.create(
        rule=record.id,
        program=record.program_id,
        version=record.version,
        change_type=change_type,
        changes=changes,
        snapshot=msgspec.to_builtins(rule),
        changed_by_api_key_id=api_key_id,
    )
