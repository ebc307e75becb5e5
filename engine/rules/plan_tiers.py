"""The apply planner's step for a bundle's tier types (D29), planned before the rules that may
name them: tier types are matched by key. A missing one is created, a changed one patched (levels
upserted by key), one marked ARCHIVED in the file or missing from it is archived. Archiving is one
way and levels cannot be removed: a file that asks for either is reported as a problem.

    plan_tiers(bundle, context, plan)   # appends Steps ("create tier status", ...)
"""

from __future__ import annotations

from typing import Any

import msgspec

from engine.model.bundle import Bundle, TierType
from engine.rules.plan_steps import FieldChange, Plan, Step, changes_of


def level_compared(level: dict[str, Any]) -> dict[str, Any]:
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
    lifecycle = msgspec.to_builtins(tier.lifecycle)
    if lifecycle != (current.get("lifecycle") or {}):
        changed["lifecycle"] = lifecycle
    server = {level["key"]: level_compared(level) for level in current.get("levels", [])}
    levels = []
    for level in tier.levels:
        wanted = level_compared(msgspec.to_builtins(level))
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


def plan_tiers(bundle: Bundle, context: Any, plan: Plan) -> None:
    """`context` is the planner's (`engine.rules.plan`): `tiers`, the program's tier types on the
    server as the API answers them."""
    by_key = {t["key"]: t for t in context.tiers}
    path = "/v1/programs/{program}/tiers"
    archived = [FieldChange("status", "ACTIVE", "ARCHIVED")]
    for tier in bundle.tiers:
        current = by_key.get(tier.key)
        if current is None:
            body = {k: v for k, v in msgspec.to_builtins(tier).items() if k != "status"}
            plan.steps.append(Step("create", "tier", tier.key, "POST", path, body))
        elif current.get("status") == "ARCHIVED":
            if tier.status != "ARCHIVED":
                plan.problems.append(f"tier {tier.key} is archived on the server (archiving is one way)")
            continue
        else:
            changed = _tier_changes(tier, current, plan)
            if changed:
                old = {"levels": current.get("levels"), **current}
                plan.steps.append(
                    Step(
                        "update",
                        "tier",
                        tier.key,
                        "PATCH",
                        f"{path}/{tier.key}",
                        changed,
                        changes_of(list(changed), old, changed),
                    )
                )
        if tier.status == "ARCHIVED":
            plan.steps.append(Step("archive", "tier", tier.key, "POST", f"{path}/{tier.key}/archive", {}, archived))
    wanted = {tier.key for tier in bundle.tiers}
    for key, current in sorted(by_key.items()):
        if key not in wanted and current.get("status") != "ARCHIVED":
            plan.steps.append(Step("archive", "tier", key, "POST", f"{path}/{key}/archive", {}, archived))
