"""Make a server's program match a bundle file (D29): plan, then apply, through the HTTP API or
directly on the database.

    >>> plan = plan_bundle(bundle, HttpTarget("http://127.0.0.1:8000", "sk_..."))
    >>> [step.describe() for step in plan.steps]
    ['create program coffee', 'create asset STAMP', 'create rule stamp_per_coffee (order 10)']
    >>> apply_plan(plan, target)

The program is found by its key (`program.key` in the file). Assets are matched by symbol (only
`name` and `max_transaction_amount` can change; scale and policies are immutable, a difference is
reported as a problem), rules by name: a rule in the file and not on the server is created, a
rule whose fields differ is patched (the server keeps the previous version), a non-archived rule
on the server that the file no longer has is archived. A rule without `order` gets the order the
evaluator would give it (previous + 10), so the server and the file agree on evaluation order.
Tier types are matched by key, before the rules (which may name them): a missing one is created, a
changed one patched (levels upserted by key), one marked ARCHIVED in the file or missing from it is
archived. Archiving is one way and levels cannot be removed: a file that asks for either is
reported as a problem.

The plan is computed from plain data (the API's JSON), so the same code serves both targets:
`HttpTarget` speaks to a running server with an API key; `DatabaseTarget` calls the API's own
functions for one organisation (`accrual apply FILE --org NAME`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import msgspec

from engine.errors import EngineError
from engine.model.bundle import Bundle, Rule, TierType

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
PROGRAM_COMPARED = ("name", "description", "on_unknown_participant", "status")


class ApplyError(EngineError):
    """The target refused a step or cannot be read (`code` from the server, e.g. `invalid_rule`)."""

    code = "apply"


class Target(Protocol):
    """Where a bundle is applied: the API's resources as JSON-shaped dicts."""

    def programs(self) -> list[dict[str, Any]]: ...
    def assets(self, program_id: str) -> list[dict[str, Any]]: ...
    def rules(self, program_id: str) -> list[dict[str, Any]]: ...
    def tiers(self, program_id: str) -> list[dict[str, Any]]: ...
    def send(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class Step:
    """One change: `method path body`; `ref` names the program id once it is known."""

    kind: str  # create|update|archive
    resource: str  # program|asset|tier|rule
    name: str
    method: str
    path: str
    body: dict[str, Any]
    changes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        detail = f" ({', '.join(self.changes)})" if self.changes else ""
        return f"{self.kind} {self.resource} {self.name}{detail}"


@dataclass
class Plan:
    program_key: str
    program_id: str | None
    steps: list[Step] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if not self.steps and not self.problems:
            return [f"program {self.program_key}: up to date"]
        return (
            [f"program {self.program_key}: {len(self.steps)} change(s)"]
            + [f"  {step.describe()}" for step in self.steps]
            + [f"  problem: {problem}" for problem in self.problems]
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
    data["budgets"] = [_budget(x) for x in data.get("budgets", [])]
    return data


def _budget(budget: dict[str, Any]) -> dict[str, Any]:
    return {
        "asset_id": budget["asset_id"],
        "limit": _canonical_amount(budget["limit"]),
        "schedule_type": budget.get("schedule_type"),
        "cron_expression": budget.get("cron_expression"),
        "interval": budget.get("interval"),
    }


def _server_rule(rule: dict[str, Any]) -> dict[str, Any]:
    data = {key: rule.get(key) for key in RULE_COMPARED}
    data["budgets"] = [_budget(x) for x in rule.get("budgets", [])]
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


def _plan_program(bundle: Bundle, existing: dict[str, Any] | None, plan: Plan) -> None:
    settings = bundle.program
    wanted = {
        "name": settings.name,
        "description": settings.description,
        "on_unknown_participant": settings.on_unknown_participant,
        "status": settings.status,
    }
    if existing is None:
        body = {k: v for k, v in wanted.items() if k != "status" and v is not None} | {"key": settings.key}
        plan.steps.append(Step("create", "program", settings.key, "POST", "/v1/programs", body))
        if settings.status != "ACTIVE":
            plan.steps.append(
                Step(
                    "update",
                    "program",
                    settings.key,
                    "PATCH",
                    "/v1/programs/{program}",
                    {"status": settings.status},
                    ["status"],
                )
            )
        return
    changed = {k: v for k, v in wanted.items() if existing.get(k) != v}
    if changed:
        plan.steps.append(
            Step("update", "program", settings.key, "PATCH", "/v1/programs/{program}", changed, sorted(changed))
        )


def _plan_assets(bundle: Bundle, existing: list[dict[str, Any]], plan: Plan) -> None:
    by_symbol = {a["symbol"]: a for a in existing}
    for asset in bundle.assets:
        current = by_symbol.get(asset.symbol)
        if current is None:
            body = _plain(asset) | {"program_id": "{program}"}
            plan.steps.append(Step("create", "asset", asset.symbol, "POST", "/v1/assets", body))
            continue
        for immutable in ("scale", "inventory_mode", "issuance_policy"):
            if current.get(immutable) != getattr(asset, immutable):
                plan.problems.append(
                    f"asset {asset.symbol}: {immutable} is {current.get(immutable)!r} on the "
                    f"server and {getattr(asset, immutable)!r} in the file (immutable)"
                )
        changed: dict[str, Any] = {}
        if current.get("name") != asset.name:
            changed["name"] = asset.name
        if current.get("spending_order", "FIFO") != asset.spending_order:
            changed["spending_order"] = asset.spending_order
        if _canonical_amount(current.get("max_transaction_amount")) != _canonical_amount(asset.max_transaction_amount):
            changed["max_transaction_amount"] = asset.max_transaction_amount
        if changed:
            plan.steps.append(
                Step("update", "asset", asset.symbol, "PATCH", f"/v1/assets/{current['id']}", changed, sorted(changed))
            )


def _level(level: dict[str, Any]) -> dict[str, Any]:
    """A level as compared: a qualification without criteria is no qualification (A22: such a
    level is never reached automatically)."""
    qualification = level.get("qualification") or {}
    criteria = qualification.get("criteria") or []
    return {
        "key": level["key"],
        "rank": level["rank"],
        "display_name": level.get("display_name"),
        "benefits": level.get("benefits") or {},
        "qualification": {"mode": qualification.get("mode", "ALL"), "criteria": criteria} if criteria else None,
    }


def _tier_changes(tier: TierType, current: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """The PATCH body that makes the server's ACTIVE tier type `current` match the file's `tier`."""
    changed: dict[str, Any] = {}
    if tier.display_name != current.get("display_name"):
        if tier.display_name is None:
            plan.problems.append(f"tier {tier.key}: display_name cannot be cleared")
        else:
            changed["display_name"] = tier.display_name
    if tier.lifecycle != (current.get("lifecycle") or {}):
        changed["lifecycle"] = tier.lifecycle
    server = {level["key"]: _level(level) for level in current.get("levels", [])}
    levels = []
    for level in tier.levels:
        wanted = _level(_plain(level))
        if server.get(level.key) == wanted:
            continue
        if wanted["display_name"] is None and (server.get(level.key) or {}).get("display_name") is not None:
            plan.problems.append(f"tier {tier.key}: level {level.key}'s display_name cannot be cleared")
        body = {k: v for k, v in wanted.items() if v is not None}
        if wanted["qualification"] is None and (server.get(level.key) or {}).get("qualification"):
            body["qualification"] = {}  # `{}` removes auto-advancement; null would keep it
        levels.append(body)
    removed = sorted(set(server) - {level.key for level in tier.levels})
    if removed:
        plan.problems.append(
            f"tier {tier.key}: levels {', '.join(removed)} are on the server and not in the file "
            "(levels cannot be removed)"
        )
    if levels:
        changed["levels"] = levels
    return changed


def _plan_tiers(bundle: Bundle, existing: list[dict[str, Any]], plan: Plan) -> None:
    by_key = {t["key"]: t for t in existing}
    path = "/v1/programs/{program}/tiers"
    for tier in bundle.tiers:
        current = by_key.get(tier.key)
        if current is None:
            body = {k: v for k, v in _plain(tier).items() if k != "status"}
            plan.steps.append(Step("create", "tier", tier.key, "POST", path, body))
        elif current.get("status") == "ARCHIVED":
            if tier.status != "ARCHIVED":
                plan.problems.append(f"tier {tier.key} is archived on the server (archiving is one way)")
            continue
        else:
            changed = _tier_changes(tier, current, plan)
            if changed:
                plan.steps.append(
                    Step("update", "tier", tier.key, "PATCH", f"{path}/{tier.key}", changed, sorted(changed))
                )
        if tier.status == "ARCHIVED":
            plan.steps.append(Step("archive", "tier", tier.key, "POST", f"{path}/{tier.key}/archive", {}, ["status"]))
    wanted = {tier.key for tier in bundle.tiers}
    for key, current in sorted(by_key.items()):
        if key not in wanted and current.get("status") != "ARCHIVED":
            plan.steps.append(Step("archive", "tier", key, "POST", f"{path}/{key}/archive", {}, ["status"]))


def _plan_rules(bundle: Bundle, existing: list[dict[str, Any]], plan: Plan) -> None:
    by_name = {r["name"]: r for r in existing if r.get("status") != "ARCHIVED"}
    wanted_names = {rule.name for rule in bundle.rules}
    for name, kept in sorted(by_name.items()):
        if name not in wanted_names:
            plan.steps.append(
                Step("archive", "rule", name, "PATCH", f"/v1/rules/{kept['id']}", {"status": "ARCHIVED"}, ["status"])
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
            plan.steps.append(
                Step("update", "rule", rule.name, "PATCH", f"/v1/rules/{current['id']}", changed, sorted(changed))
            )


def plan_bundle(bundle: Bundle, target: Target) -> Plan:
    """What applying `bundle` to `target` would change; nothing is written."""
    program = next((p for p in target.programs() if p.get("key") == bundle.program.key), None)
    plan = Plan(program_key=bundle.program.key, program_id=program["id"] if program else None)
    _plan_program(bundle, program, plan)
    _plan_assets(bundle, target.assets(program["id"]) if program else [], plan)
    _plan_tiers(bundle, target.tiers(program["id"]) if program else [], plan)
    _plan_rules(bundle, target.rules(program["id"]) if program else [], plan)
    return plan


def apply_plan(plan: Plan, target: Target, *, echo: Callable[[str], None] = lambda line: None) -> str:
    """Run the plan's steps in order (program, assets, tiers, archived rules, rules); returns the program id."""
    program_id = plan.program_id or ""
    for step in plan.steps:
        path, body = step.path.replace("{program}", program_id), dict(step.body)
        if "program_id" in body:  # the program of a create made earlier in this plan
            body["program_id"] = program_id
        answer = target.send(step.method, path, body)
        if step.resource == "program" and step.kind == "create":
            program_id = answer["id"]
        echo(step.describe())
    return program_id
