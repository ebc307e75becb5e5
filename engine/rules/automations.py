"""Automations checked and compiled: the trigger against its scope (Scrip's table), the cron
expression, the time zone, `schedule_config` against its `schedule_type`, the payload's bounds,
and `participant_filter` / `guard_condition` compiled and type-checked like rule conditions.

    >>> compiled, problems = compile_automation(spec, program_zone="Europe/London")
    >>> compiled.guard_condition.evaluate(automation_bindings(participant, program_state, now))
    True

A participants-scope automation's expressions see `participant`, `program` and `now` (the
firing time); a program-scope one's see `program` and `now`, as there is no participant to see.
Problems carry the path of the field they are about (`("automations", 2, "trigger",
"cron_expression")`), for `accrual check`'s file:line:col, the API's 400 and `accrual apply`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from dsl.errors import DslError
from engine.errors import EngineError
from engine.limits import check_event_data
from engine.model.automation import (
    SCHEDULE_CONFIGS,
    SCOPES_OF,
    AutomationSpec,
    CronConfig,
    IntervalConfig,
    ScheduleConfig,
    automation_event_data,
)
from engine.model.calendar import time_zone_problem
from engine.model.cron import cron_problem
from engine.model.triggers import interval_problem, trigger_zone
from engine.rules.compiler import ExpressionProblem, Path
from engine.rules.expression_cache import compile_cached
from engine.rules.type_check import FIXED

PARTICIPANT_VARIABLES = frozenset({"participant", "program", "now"})
PROGRAM_VARIABLES = frozenset({"program", "now"})
# The fields of a trigger that belong to one trigger type each.
_OWN_FIELDS = {
    "cron_expression": "cron",
    "trigger_at": "one_time",
    "schedule_type": "participant_state",
    "schedule_config": "participant_state",
}


@dataclass(frozen=True, eq=False)
class CompiledAutomation:
    """An automation ready to fire: its spec, the zone its clock reads (its own or the
    program's), its typed schedule_config, and its compiled expressions."""

    spec: AutomationSpec
    timezone: str
    schedule: ScheduleConfig | None
    participant_filter: Any = None  # dsl Expression
    guard_condition: Any = None

    @property
    def name(self) -> str:
        return self.spec.name


class AutomationError(EngineError):
    """An automation that does not check; `problems` lists every problem with its path."""

    code = "invalid_automation"

    def __init__(self, problems: list[ExpressionProblem]) -> None:
        first = problems[0]
        where = ".".join(str(part) for part in first.path)
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{where}: {first.error}{more}" if where else f"{first.error}{more}")
        self.problems = problems


class _Checker:
    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        self.problems: list[ExpressionProblem] = []

    def fail(self, path: Path, code: str, message: str) -> None:
        self.problems.append(ExpressionProblem(-1, (*self.prefix, *path), EngineError(message, code=code)))

    def report(self, path: Path, error: DslError | EngineError) -> None:
        self.problems.append(ExpressionProblem(-1, (*self.prefix, *path), error))


def compile_automation(
    spec: AutomationSpec, program_zone: str = "UTC", prefix: Path = ()
) -> tuple[CompiledAutomation | None, list[ExpressionProblem]]:
    """Check and compile one automation; (None, problems) when anything is wrong."""
    checker = _Checker(prefix)
    _check_trigger(spec, checker)
    schedule = _schedule(spec, checker)
    if spec.participant_filter is not None and spec.scope != "participants":
        checker.fail(("participant_filter",), "invalid_scope", "participant_filter needs scope participants")
    if spec.filter_hints and spec.scope != "participants":
        checker.fail(("filter_hints",), "invalid_scope", "filter_hints need scope participants")
    if spec.participant_id is not None and (spec.scope, spec.trigger.type) != ("program", "one_time"):
        message = "participant_id goes with a one_time trigger of scope program"
        checker.fail(("participant_id",), "unexpected_field", message)
    try:
        check_event_data(automation_event_data(spec.event_name, spec.payload))
    except EngineError as exc:
        checker.report(("payload",), exc)
    variables = PARTICIPANT_VARIABLES if spec.scope == "participants" else PROGRAM_VARIABLES
    expressions = {
        name: _expression(checker, name, getattr(spec, name), variables)
        for name in ("participant_filter", "guard_condition")
    }
    if checker.problems:
        return None, checker.problems
    compiled = CompiledAutomation(
        spec=spec, timezone=trigger_zone(spec.trigger, program_zone), schedule=schedule, **expressions
    )
    return compiled, []


def require_automation(spec: AutomationSpec, program_zone: str = "UTC") -> CompiledAutomation:
    """`compile_automation`, raising `AutomationError` (code `invalid_automation`)."""
    compiled, problems = compile_automation(spec, program_zone)
    if compiled is None:
        raise AutomationError(problems)
    return compiled


def compile_automations(
    specs: Sequence[AutomationSpec], program_zone: str = "UTC"
) -> tuple[list[CompiledAutomation], list[ExpressionProblem]]:
    """Every automation of a bundle, with every problem (paths start `("automations", i)`);
    names must be unique."""
    compiled: list[CompiledAutomation] = []
    problems: list[ExpressionProblem] = []
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        prefix: Path = ("automations", index)
        if spec.name in seen:
            message = f"automation name {spec.name!r} is used twice"
            problems.append(ExpressionProblem(-1, (*prefix, "name"), EngineError(message, code="duplicate_name")))
        seen.add(spec.name)
        found, own = compile_automation(spec, program_zone, prefix)
        problems += own
        if found is not None:
            compiled.append(found)
    return compiled, problems


def _check_trigger(spec: AutomationSpec, checker: _Checker) -> None:
    trigger = spec.trigger
    scopes = SCOPES_OF[trigger.type]
    if spec.scope not in scopes:
        article = "an" if trigger.type[0] in "aeiou" else "a"
        message = f"{article} {trigger.type} trigger fires for scope {' or '.join(scopes)}, not {spec.scope}"
        checker.fail(("scope",), "invalid_scope", message)
    for field, owner in _OWN_FIELDS.items():
        if getattr(trigger, field) is not None and trigger.type != owner:
            checker.fail(("trigger", field), "unexpected_field", f"`{field}` goes with a {owner} trigger")
    if trigger.type == "cron":
        if trigger.cron_expression is None:
            checker.fail(("trigger",), "missing_field", "a cron trigger needs `cron_expression` (such as '0 9 * * *')")
        else:
            _cron(checker, ("trigger", "cron_expression"), trigger.cron_expression)
    if trigger.type == "one_time":
        _trigger_at(checker, trigger.trigger_at)
    if trigger.timezone is not None:
        problem = time_zone_problem(trigger.timezone)
        if problem is not None:
            checker.fail(("trigger", "timezone"), "unknown_timezone", problem)


def _trigger_at(checker: _Checker, trigger_at: datetime | None) -> None:
    if trigger_at is None:
        checker.fail(("trigger",), "missing_field", "a one_time trigger needs `trigger_at` (an RFC 3339 time)")
    elif trigger_at.tzinfo is None:
        message = "trigger_at needs its offset (such as 2026-06-01T09:00:00Z): a time without one is ambiguous"
        checker.fail(("trigger", "trigger_at"), "invalid_value", message)


def _cron(checker: _Checker, path: Path, expression: str) -> None:
    problem = cron_problem(expression)
    if problem is not None:
        checker.fail(path, "invalid_cron", problem)


def _schedule(spec: AutomationSpec, checker: _Checker) -> ScheduleConfig | None:
    """The trigger's schedule_config as the Struct of its schedule_type (participant_state)."""
    trigger = spec.trigger
    if trigger.type != "participant_state":
        return None
    if trigger.schedule_type is None or trigger.schedule_config is None:
        message = "a participant_state trigger needs `schedule_type` and `schedule_config`"
        checker.fail(("trigger",), "missing_field", message)
        return None
    path: Path = ("trigger", "schedule_config")
    try:
        config = msgspec.convert(trigger.schedule_config, SCHEDULE_CONFIGS[trigger.schedule_type])
    except msgspec.ValidationError as exc:
        where, message = _config_problem(str(exc), SCHEDULE_CONFIGS[trigger.schedule_type])
        checker.fail((*path, *where), "invalid_schedule_config", f"{trigger.schedule_type} schedule_config: {message}")
        return None
    if isinstance(config, IntervalConfig):
        problem = interval_problem(config)
        if problem is not None:
            checker.fail((*path, "interval"), "invalid_duration", problem)
    if isinstance(config, CronConfig):
        _cron(checker, (*path, "cron_expression"), config.cron_expression)
    return config


def _config_problem(error: str, config_type: type) -> tuple[Path, str]:
    """msgspec's `Expected ... - at `$.interval`` as (the field's path, a message naming it)."""
    fields = [field.name for field in msgspec.structs.fields(config_type)]
    message, _, at = error.partition(" - at `$")
    where: Path = tuple(part for part in at.rstrip("`").split(".") if part)
    unknown = re.search(r"unknown field `([^`]*)`", message)
    if unknown:
        close = difflib.get_close_matches(unknown[1], fields, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; its fields: {', '.join(fields)}"
        return (*where, unknown[1]), f"unknown field '{unknown[1]}'{hint}"
    missing = re.search(r"missing required field `([^`]*)`", message)
    if missing:
        return where, f"missing required field `{missing[1]}`"
    if "matching regex" in message and where[-1:] == ("time",):
        return where, "expected a time of day as HH:MM (00:00 to 23:59), such as '09:00'"
    return where, message[:1].lower() + message[1:]


def _expression(checker: _Checker, name: str, text: str | None, variables: frozenset[str]) -> Any:
    if text is None:
        return None
    try:
        expression = compile_cached(text, variables)
    except DslError as exc:
        checker.report((name,), exc)
        return None
    environment = {variable: FIXED[variable] for variable in variables}
    for error in expression.type_errors(environment):
        checker.report((name,), error)
    return expression
