"""The apply planner's step for a bundle's reward catalog (`rewards:`, D29): rewards are matched
by name in the program. A reward in the file and not on the server is created; one whose fields
differ is patched; one on the server that the file no longer has is archived (PATCH status
ARCHIVED), and an archived one the file lists again is set back to its status. `redemption_type`
and the asset never change on the server: a file that changes them is reported as a problem.
A server reward that is OUT_OF_STOCK counts as ACTIVE (its stock, not the file, says so).

    plan_rewards(bundle, context, plan)   # appends Steps ("create reward Free coffee", ...)
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from engine.model.bundle import Bundle
from engine.model.rewards import Reward
from engine.rules.plan_steps import FieldChange, Plan, Step, changes_of

PATH = "/v1/programs/{program}/rewards"
COMPARED = (
    "description",
    "category",
    "metadata",
    "unit_cost",
    "max_total",
    "max_per_participant",
    "status",
    "available_from",
    "available_until",
)
IMMUTABLE = ("redemption_type", "asset_id")


def plan_rewards(bundle: Bundle, context: Any, plan: Plan) -> None:
    """`context` is the planner's (`engine.rules.plan`): `rewards` of the program on the server
    and the organisation's assets (`organisation_assets`), as the API answers them."""
    symbols = {asset["id"]: asset["symbol"] for asset in context.organisation_assets}
    by_name = {reward["name"]: reward for reward in context.rewards}
    for reward in bundle.rewards:
        current = by_name.get(reward.name)
        if current is None:
            body = msgspec.to_builtins(reward) | {"status": reward.status}
            plan.steps.append(Step("create", "reward", reward.name, "POST", PATH, body))
            continue
        server = {**current, "asset_id": symbols.get(current.get("asset_id"), current.get("asset_id"))}
        for field in IMMUTABLE:
            if server.get(field) != getattr(reward, field):
                plan.problems.append(
                    f"reward {reward.name}: {field} is {server.get(field)!r} on the server and "
                    f"{getattr(reward, field)!r} in the file (immutable)"
                )
        wanted, old = _fields(reward), _server_fields(current)
        changed = [name for name in COMPARED if _compared(name, wanted[name]) != _compared(name, old[name])]
        if changed:
            body = {name: wanted[name] for name in changed}
            path = f"{PATH}/{current['id']}"
            plan.steps.append(
                Step("update", "reward", reward.name, "PATCH", path, body, changes_of(changed, old, wanted))
            )
    listed = {reward.name for reward in bundle.rewards}
    for name, current in sorted(by_name.items()):
        if name not in listed and current.get("status") != "ARCHIVED":
            archived = [FieldChange("status", current.get("status"), "ARCHIVED")]
            path = f"{PATH}/{current['id']}"
            plan.steps.append(Step("archive", "reward", name, "PATCH", path, {"status": "ARCHIVED"}, archived))


def _fields(reward: Reward) -> dict[str, Any]:
    """The file's reward as a PATCH body would carry it (every compared field, None included)."""
    plain = msgspec.to_builtins(reward)
    fields = {name: plain.get(name) for name in COMPARED}
    fields["metadata"] = plain.get("metadata") or {}
    fields["status"] = reward.status
    return fields


def _server_fields(current: dict[str, Any]) -> dict[str, Any]:
    fields = {name: current.get(name) for name in COMPARED}
    fields["metadata"] = current.get("metadata") or {}
    if fields["status"] == "OUT_OF_STOCK":
        fields["status"] = "ACTIVE"
    return fields


def _compared(name: str, value: Any) -> Any:
    """Amounts as numbers ("10" = "10.00"), times as instants (`Z` = `+00:00`)."""
    if value is None:
        return None
    if name == "unit_cost":
        return Decimal(str(value)).normalize()
    if name in ("available_from", "available_until"):
        moment = msgspec.convert(value, type=datetime) if isinstance(value, str) else value
        return moment.timestamp()
    return value
