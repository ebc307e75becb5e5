"""Make a stored program match a bundle file (D29): one planner for `accrual apply --dry-run` and
the apply itself.

    >>> plan = plan_bundle(bundle, DatabaseTarget(principal))
    >>> [step.describe() for step in plan.steps]
    ['create program coffee', 'create asset STAMP', 'create rule stamp_per_coffee (order 10)']
    >>> apply_plan(plan, target)

The program is found by its key (`program.key` in the file). Assets belong to the organisation
and are matched by symbol across it, as creating one would be: an asset of another program is
linked to this one, not created again (only `name` and `max_transaction_amount` can change; scale
and policies are immutable, a difference is reported as a problem). Rules are matched by name: a
rule in the file and not on the server is created, a rule whose fields differ is patched (the
server keeps the previous version), a non-archived rule on the server that the file no longer has
is archived. A rule without `order` gets the order the
evaluator would give it (previous + 10), so the server and the file agree on evaluation order.
Tier types are matched by key, before the rules (which may name them): a missing one is created, a
changed one patched (levels upserted by key), one marked ARCHIVED in the file or missing from it is
archived. Archiving is one way and levels cannot be removed: a file that asks for either is
reported as a problem.

The plan is computed from plain data (the API's JSON) by the planners of `RESOURCES`, in order
(the program, assets, tiers (`engine.rules.plan_tiers`), rewards (`engine.rules.plan_rewards`),
rules, automations (`engine.rules.plan_automations`)); a new kind of resource joins that list.
Every step names its changed fields with their old and new values (`FieldChange`). The plan is applied in one
transaction by `api.queries.apply.apply_bundle`, which both `POST /v1/programs/apply` (`accrual
apply --server`) and `accrual apply --org` call (A87).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from engine.model.bundle import Bundle, Rule
from engine.rules.plan_automations import plan_automations
from engine.rules.plan_rewards import plan_rewards
from engine.rules.plan_steps import ApplyError, FieldChange, Plan, Step, Target, changes_of
from engine.rules.plan_tiers import plan_tiers

__all__ = ["ApplyError", "FieldChange", "Plan", "Step", "Target", "apply_plan", "plan_bundle"]

RULE_COMPARED = (
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
PROGRAM_COMPARED = (
    "name",
    "description",
    "on_unknown_participant",
    "status",
    "timezone",
    "event_types",
    "event_validation",
)


def _plain(value: Any) -> Any:
    return msgspec.to_builtins(value)


def _canonical_amount(value: str | None) -> str | None:
    return None if value is None else format(Decimal(value).normalize(), "f")


def _rule_fields(rule: Rule, order: int) -> dict[str, Any]:
    data = _plain(rule)
    data["order"] = order
    for key in ("description", "active_from", "active_to"):
        data.setdefault(key, None)
    data.setdefault("stop_after_match", False)
    data.setdefault("status", "ACTIVE")
    data["budgets"] = _budgets(data.get("budgets", []))
    return data


def _budget(budget: dict[str, Any]) -> dict[str, Any]:
    return {
        "asset_id": budget["asset_id"],
        "limit": _canonical_amount(budget["limit"]),
        "schedule_type": budget.get("schedule_type"),
        "cron_expression": budget.get("cron_expression"),
        "interval": budget.get("interval"),
        "period": budget.get("period"),
        "per": budget.get("per") or "program",
    }


def _budgets(budgets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Budgets as compared: one per (asset, per), so their order does not matter."""
    return sorted((_budget(x) for x in budgets), key=lambda b: (b["asset_id"], b["per"]))


def _server_rule(rule: dict[str, Any]) -> dict[str, Any]:
    data = {key: rule.get(key) for key in RULE_COMPARED}
    data["budgets"] = _budgets(rule.get("budgets", []))
    data["active_from"] = _timestamp(rule.get("active_from"))
    data["active_to"] = _timestamp(rule.get("active_to"))
    return data


def _timestamp(value: Any) -> Any:
    """Timestamps compared as instants (the server answers `Z`, files may write an offset)."""
    if value is None:
        return None
    moment = msgspec.convert(value, type=datetime) if isinstance(value, str) else value
    return moment.timestamp()


def _ordered_rules(bundle: Bundle) -> list[tuple[Rule, int]]:
    """Each rule with the order the evaluator gives it (engine.rules.program.compile_program's rule)."""
    result, previous = [], 0
    for rule in bundle.rules:
        order = rule.order if rule.order is not None else previous + 10
        previous = max(previous, order)
        result.append((rule, order))
    return result


def _program_wanted(bundle: Bundle) -> dict[str, Any]:
    settings = bundle.program
    return {
        "name": settings.name,
        "description": settings.description,
        "on_unknown_participant": settings.on_unknown_participant,
        "status": settings.status,
        "timezone": settings.timezone,
        "event_types": _plain(bundle.events) or None,
        "event_validation": settings.event_validation,
    }


def _plan_program(bundle: Bundle, context: _Context, plan: Plan) -> None:
    settings, existing = bundle.program, context.program
    wanted = _program_wanted(bundle)
    if existing is None:
        body = {k: v for k, v in wanted.items() if k != "status" and v is not None} | {"key": settings.key}
        plan.steps.append(Step("create", "program", settings.key, "POST", "/v1/programs", body))
        if settings.status != "ACTIVE":
            status = [FieldChange("status", "ACTIVE", settings.status)]
            patch = {"status": settings.status}
            plan.steps.append(Step("update", "program", settings.key, "PATCH", "/v1/programs/{program}", patch, status))
        return
    current = {k: existing.get(k) for k in wanted} | {"event_types": existing.get("event_types") or None}
    changed = {k: v for k, v in wanted.items() if current.get(k) != v}
    if changed:
        plan.steps.append(
            Step(
                "update",
                "program",
                settings.key,
                "PATCH",
                "/v1/programs/{program}",
                changed,
                changes_of(list(changed), current, wanted),
            )
        )


def _plan_assets(bundle: Bundle, context: _Context, plan: Plan) -> None:
    """Assets by symbol across the organisation: linked to the program, linked from another
    program (a `link` step), or created."""
    by_symbol = {a["symbol"]: a for a in context.organisation_assets}
    program_keys = {p["id"]: p.get("key") or p["id"] for p in context.programs}
    for asset in bundle.assets:
        current = by_symbol.get(asset.symbol)
        if current is None:
            body = _plain(asset) | {"program_id": "{program}"}
            plan.steps.append(Step("create", "asset", asset.symbol, "POST", "/v1/assets", body))
            continue
        if current.get("status") == "ARCHIVED":
            plan.problems.append(f"asset {asset.symbol} is archived in the organisation (archiving is one way)")
            continue
        if context.program is None or context.program["id"] not in current.get("program_ids", []):
            owners = ", ".join(sorted(str(program_keys.get(p, p)) for p in current.get("program_ids", [])))
            plan.steps.append(
                Step(
                    "link",
                    "asset",
                    asset.symbol,
                    "POST",
                    f"/v1/assets/{current['id']}/programs",
                    {"program_id": "{program}"},
                    note=f"existing asset {current['id']}" + (f" of {owners}" if owners else ""),
                )
            )
        _asset_differences(asset, current, plan)


def _asset_differences(asset: Any, current: dict[str, Any], plan: Plan) -> None:
    for immutable in ("scale", "inventory_mode", "issuance_policy"):
        if current.get(immutable) != getattr(asset, immutable):
            plan.problems.append(
                f"asset {asset.symbol}: {immutable} is {current.get(immutable)!r} on the "
                f"server and {getattr(asset, immutable)!r} in the file (immutable)"
            )
    old = {
        "name": current.get("name"),
        "spending_order": current.get("spending_order", "FIFO"),
        "max_transaction_amount": current.get("max_transaction_amount"),
    }
    changed: dict[str, Any] = {}
    if current.get("name") != asset.name:
        changed["name"] = asset.name
    if old["spending_order"] != asset.spending_order:
        changed["spending_order"] = asset.spending_order
    if _canonical_amount(current.get("max_transaction_amount")) != _canonical_amount(asset.max_transaction_amount):
        changed["max_transaction_amount"] = asset.max_transaction_amount
    if changed:
        plan.steps.append(
            Step(
                "update",
                "asset",
                asset.symbol,
                "PATCH",
                f"/v1/assets/{current['id']}",
                changed,
                changes_of(list(changed), old, changed),
            )
        )


def _plan_rules(bundle: Bundle, context: _Context, plan: Plan) -> None:
    by_name = {r["name"]: r for r in context.rules if r.get("status") != "ARCHIVED"}
    wanted_names = {rule.name for rule in bundle.rules}
    for name, kept in sorted(by_name.items()):
        if name not in wanted_names:
            status = [FieldChange("status", kept.get("status"), "ARCHIVED")]
            plan.steps.append(
                Step("archive", "rule", name, "PATCH", f"/v1/rules/{kept['id']}", {"status": "ARCHIVED"}, status)
            )
    for rule, order in _ordered_rules(bundle):
        wanted = _rule_fields(rule, order)
        current = by_name.get(rule.name)
        if current is None:
            body = {k: v for k, v in wanted.items() if v is not None} | {"program_id": "{program}"}
            plan.steps.append(Step("create", "rule", f"{rule.name} (order {order})", "POST", "/v1/rules", body))
            continue
        server = _server_rule(current)
        compared = {k: (_timestamp(v) if k in ("active_from", "active_to") else v) for k, v in wanted.items()}
        changed = {k: wanted[k] for k in RULE_COMPARED if compared.get(k) != server.get(k)}
        if changed:
            old = {k: current.get(k) for k in changed} | {"budgets": server["budgets"]}
            plan.steps.append(
                Step(
                    "update",
                    "rule",
                    rule.name,
                    "PATCH",
                    f"/v1/rules/{current['id']}",
                    changed,
                    changes_of(list(changed), old, changed),
                )
            )


@dataclass
class _Context:
    """What the planners read from the target, once."""

    programs: list[dict[str, Any]]
    program: dict[str, Any] | None
    organisation_assets: list[dict[str, Any]]
    tiers: list[dict[str, Any]]
    rules: list[dict[str, Any]]
    automations: list[dict[str, Any]]
    rewards: list[dict[str, Any]]


# The planners, in the order their steps run (tiers before the rules that may name them). A new
# kind of resource (rewards) adds its planner here.
RESOURCES: tuple[tuple[str, Callable[[Bundle, _Context, Plan], None]], ...] = (
    ("program", _plan_program),
    ("assets", _plan_assets),
    ("tiers", plan_tiers),
    ("rewards", plan_rewards),
    ("rules", _plan_rules),
    ("automations", lambda bundle, context, plan: plan_automations(bundle, context.automations, plan)),
)


def plan_bundle(bundle: Bundle, target: Target) -> Plan:
    """What applying `bundle` to `target` would change; nothing is written."""
    programs = target.programs()
    program = next((p for p in programs if p.get("key") == bundle.program.key), None)
    context = _Context(
        programs=programs,
        program=program,
        organisation_assets=target.assets(None),
        tiers=target.tiers(program["id"]) if program else [],
        rules=target.rules(program["id"]) if program else [],
        automations=target.automations(program["id"]) if program else [],
        rewards=target.rewards(program["id"]) if program else [],
    )
    plan = Plan(program_key=bundle.program.key, program_id=program["id"] if program else None)
    for _, planner in RESOURCES:
        planner(bundle, context, plan)
    return plan


def apply_plan(plan: Plan, target: Target, *, echo: Callable[[str], None] = lambda line: None) -> str:
    """Run the plan's steps in order (program, assets, tiers, archived rules, rules); returns the
    program id. A refused step raises `ApplyError` naming the step; the caller's transaction
    (`api.queries.apply.apply_bundle`) then undoes every step before it."""
    program_id = plan.program_id or ""
    for step in plan.steps:
        path, body = step.path.replace("{program}", program_id), dict(step.body)
        if "program_id" in body:  # the program of a create made earlier in this plan
            body["program_id"] = program_id
        try:
            answer = target.send(step.method, path, body)
        except ApplyError as exc:
            raise ApplyError(f"{step.describe()}: {exc.message}", code=exc.code, step=step.describe()) from exc
        if step.resource == "program" and step.kind == "create":
            program_id = answer["id"]
        echo(step.describe())
    return program_id
