"""The plan of `accrual apply` as data: its steps, each changed field's old and new value, and the
plan as printed (coloured on a terminal). `engine.rules.plan` makes plans; this module is what a
plan is, shared by the planner, the API's answer and the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.errors import EngineError


class ApplyError(EngineError):
    """The target refused a step or cannot be read (`code` from the server, e.g. `invalid_rule`)."""

    code = "apply"


class Target(Protocol):
    """Where a bundle is applied: the API's resources as JSON-shaped dicts. `assets(None)` lists
    every asset of the organisation (each with its `program_ids`)."""

    def programs(self) -> list[dict[str, Any]]: ...
    def assets(self, program_id: str | None) -> list[dict[str, Any]]: ...
    def rules(self, program_id: str) -> list[dict[str, Any]]: ...
    def tiers(self, program_id: str) -> list[dict[str, Any]]: ...
    def automations(self, program_id: str) -> list[dict[str, Any]]: ...
    def rewards(self, program_id: str) -> list[dict[str, Any]]: ...
    def send(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class FieldChange:
    """One field of a step: its value on the server (`None` for a new resource) and in the file."""

    field: str
    old: Any
    new: Any


@dataclass
class Step:
    """One change: `method path body`; `{program}` in the path or body stands for the program's
    id once it is known. `note` says what the step reuses (the programs of a linked asset)."""

    kind: str  # create|update|archive|link
    resource: str  # program|asset|tier|reward|rule|automation
    name: str
    method: str
    path: str
    body: dict[str, Any]
    changes: list[FieldChange] = field(default_factory=list)
    note: str | None = None

    def describe(self) -> str:
        detail = f" ({', '.join(change.field for change in self.changes)})" if self.changes else ""
        note = f" [{self.note}]" if self.note else ""
        return f"{self.kind} {self.resource} {self.name}{detail}{note}"


Style = Callable[..., str]


def _unstyled(text: str, **_: Any) -> str:
    return text


@dataclass
class Plan:
    program_key: str
    program_id: str | None
    steps: list[Step] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def lines(self, style: Style = _unstyled, *, values: bool = True) -> list[str]:
        """The plan as printed: each step, then (with `values`) each changed field's old and new
        value, removed values red and added ones green when `style` colours."""
        if not self.steps and not self.problems:
            return [f"program {self.program_key}: up to date"]
        lines = [f"program {self.program_key}: {len(self.steps)} change(s)"]
        for step in self.steps:
            lines.append(f"  {step.describe()}")
            if values and step.kind in ("update", "link"):
                lines += [_change_line(change, style) for change in step.changes]
        return lines + [style(f"  problem: {problem}", fg="yellow") for problem in self.problems]


VALUE_WIDTH = 160  # longer values are cut in the printed plan, never in what is applied


def _compact(value: Any) -> Any:
    """A value as printed: empty fields of nested objects left out (`"cron_expression": null`)."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_compact(item) for item in value]
    return value


def _shown(value: Any) -> str:
    text = "(none)" if value is None else json.dumps(_compact(value), sort_keys=True, ensure_ascii=False, default=str)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 3] + "..."


def _change_line(change: FieldChange, style: Style) -> str:
    old, new = style(_shown(change.old), fg="red"), style(_shown(change.new), fg="green")
    return f"      {change.field}: {old} -> {new}"


def changes_of(fields: list[str], old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    return [FieldChange(name, old.get(name), new.get(name)) for name in sorted(fields)]
