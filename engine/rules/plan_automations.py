"""`accrual apply`'s planner of automations (A148): a bundle's `automations` against the program's
live automations on the target (the API's JSON), matched by name.

    >>> plan_automations(bundle, target.automations(program_id), plan)
    >>> [step.describe() for step in plan.steps]
    ['create automation monthly_double_points', 'update automation birthday_bonus (trigger)']

An automation in the file and not on the server is created; one whose fields differ is patched
with the changed fields (the API's flat patch); one whose trigger type, scope or `participant_id`
changed, which a patch cannot do, is archived and created again; a live automation created
through the API (`source: api`) that the file no longer has is archived; automations SCHEDULE_EVENT made
(`source: rule_action`) are the server's, never planned.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import msgspec

from engine.model.automation import AutomationSpec
from engine.model.bundle import Bundle
from engine.rules.plan_steps import FieldChange, Plan, Step

_TRIGGER_FIELDS = ("cron_expression", "timezone", "trigger_at", "schedule_type", "schedule_config")
_CLEARABLE = ("description", "participant_filter", "guard_condition")


def plan_automations(bundle: Bundle, current: list[dict[str, Any]], plan: Plan) -> None:
    path = "/v1/programs/{program}/automations"
    live = {a["name"]: a for a in current if a.get("status") != "archived" and a.get("source") != "rule_action"}
    wanted = {spec.name for spec in bundle.automations}
    for name, kept in sorted(live.items()):
        if name not in wanted and kept.get("source") == "api":
            plan.steps.append(_archive(path, kept))
    for spec in bundle.automations:
        spec = _in_utc(spec)
        server = live.get(spec.name)
        if server is None:
            plan.steps.append(Step("create", "automation", spec.name, "POST", path, msgspec.to_builtins(spec)))
            continue
        stored = server_spec(server)
        if (stored.trigger.type, stored.scope, stored.participant_id) != (
            spec.trigger.type,
            spec.scope,
            spec.participant_id,
        ):
            plan.steps.append(_archive(path, server, note="its trigger type, scope or participant changed"))
            plan.steps.append(Step("create", "automation", spec.name, "POST", path, msgspec.to_builtins(spec)))
            continue
        changed = [
            field
            for field in AutomationSpec.__struct_fields__
            if msgspec.to_builtins(getattr(stored, field)) != msgspec.to_builtins(getattr(spec, field))
        ]
        if changed:
            changes = [
                FieldChange(
                    field, msgspec.to_builtins(getattr(stored, field)), msgspec.to_builtins(getattr(spec, field))
                )
                for field in changed
            ]
            body = _patch_body(spec, changed)
            plan.steps.append(Step("update", "automation", spec.name, "PATCH", f"{path}/{server['id']}", body, changes))


def server_spec(answer: dict[str, Any]) -> AutomationSpec:
    """An automation as the API answers it, back in the bundle's form."""
    trigger = {"type": answer["trigger_type"], **{k: answer.get(k) for k in _TRIGGER_FIELDS}}
    fields = {
        **{
            k: answer.get(k)
            for k in ("name", "event_name", "payload", "scope", "filter_hints", "participant_id", *_CLEARABLE)
        },
        "trigger": {k: v for k, v in trigger.items() if v is not None},
        "status": "paused" if answer.get("status") == "paused" else "active",
    }
    return msgspec.convert({k: v for k, v in fields.items() if v is not None}, AutomationSpec)


def _patch_body(spec: AutomationSpec, changed: list[str]) -> dict[str, Any]:
    """The API's flat patch of the changed fields; a changed trigger sends its own fields and its
    zone (`null` clears it)."""
    body: dict[str, Any] = {}
    for field in changed:
        if field == "trigger":
            trigger = msgspec.to_builtins(spec.trigger)
            body |= {k: trigger[k] for k in ("cron_expression", "trigger_at", "schedule_config") if k in trigger}
            body["timezone"] = trigger.get("timezone")
        else:
            body[field] = msgspec.to_builtins(getattr(spec, field))
    return body


def _archive(path: str, server: dict[str, Any], note: str | None = None) -> Step:
    status = [FieldChange("status", server.get("status"), "archived")]
    return Step("archive", "automation", server["name"], "DELETE", f"{path}/{server['id']}", {}, status, note=note)


def _in_utc(spec: AutomationSpec) -> AutomationSpec:
    """`trigger_at` in UTC, as the server keeps and answers it, so an unchanged time compares equal."""
    moment = spec.trigger.trigger_at
    if moment is None or moment.tzinfo is None:
        return spec
    return msgspec.structs.replace(
        spec, trigger=msgspec.structs.replace(spec.trigger, trigger_at=moment.astimezone(UTC))
    )
