"""Every CEL field of a compiled program type-checked against what its variables are (D6): the
fixed shapes of `participant`, `recipient`, `program` and `now`, and `event` as the bundle
declares it (`events:`, `engine.rules.event_types`).

    >>> report = check_program_types(program)
    >>> [(p.path, p.code) for p in report.errors]
    [(('rules', 0, 'condition'), 'DSL_UNKNOWN_FIELD')]

With declarations, a rule guarded by `event.type == "purchase"` is checked against `purchase`
alone (its actions too); an unguarded rule against every declared type (a field two types
declare differently is `dyn`). Without declarations, `event` is checked against what the bundle's
test cases' events hold, and what that finds is a warning (`untested_event_field` for a field no
test case's event has): the tests are evidence, not a contract. The type check runs when a bundle
or a rule is checked (`accrual check`, the rule API, the playground, `accrual apply`), never when
an event is evaluated.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dsl.errors import DslError
from dsl.suggest import nearest
from dsl.types import BOOL, DOUBLE, DYN, INT, STRING, TIMESTAMP, CelType, list_of, map_of, object_type
from engine.errors import EngineError
from engine.rules.compiler import CompiledRule, ExpressionProblem, Path
from engine.rules.event_types import declared_event_types


def _entity(name: str) -> CelType:
    tier = object_type("a tier", {"level": STRING, "rank": INT})
    return object_type(
        name,
        {
            "id": STRING,
            "external_id": STRING,
            "status": STRING,
            "tags": list_of(STRING),
            "counters": map_of(STRING, DOUBLE),
            "attributes": map_of(STRING, STRING),
            "tiers": map_of(STRING, tier),
        },
    )


PROGRAM = object_type(
    "program", {"tags": list_of(STRING), "counters": map_of(STRING, DOUBLE), "attributes": map_of(STRING, STRING)}
)
GROUP = object_type(
    "group",
    {
        "id": STRING,
        "name": STRING,
        "status": STRING,
        "tags": list_of(STRING),
        "counters": map_of(STRING, DOUBLE),
        "attributes": map_of(STRING, STRING),
        "balances": map_of(STRING, object_type("a balance", {"available": DOUBLE, "held": DOUBLE, "deferred": DOUBLE})),
        "tiers": map_of(STRING, object_type("a tier", {"level": STRING, "rank": INT})),
    },
)
FIXED: Mapping[str, CelType] = {
    "participant": _entity("participant"),
    "recipient": _entity("recipient"),
    "program": PROGRAM,
    "group": GROUP,
    "now": TIMESTAMP,
}


class EventTypeError(EngineError):
    code = "unknown_event_type"


@dataclass
class TypeReport:
    errors: list[ExpressionProblem] = field(default_factory=list)
    warnings: list[ExpressionProblem] = field(default_factory=list)


def check_program_types(program: Any) -> TypeReport:
    """Type-check every expression of `program` (a `CompiledProgram`, ACTIVE and inactive rules)."""
    bundle = program.bundle
    report = TypeReport()
    declared, _ = declared_event_types(bundle.events)
    index = {rule.name: i for i, rule in enumerate(bundle.rules)}
    tested = [case.event for case in bundle.tests if isinstance(case.event, dict)] + [
        step.event for case in bundle.tests for step in case.steps or [] if isinstance(step.event, dict)
    ]
    for rule in (*program.rules, *program.inactive):
        rule_index = index.get(rule.name, -1)
        guard = rule.condition.equality_guards.get("event.type") if rule.condition is not None else None
        if declared:
            event = _declared_event(declared, guard, rule_index, report)
            _check_rule(rule, rule_index, {**FIXED, "event": event}, report.errors)
            continue
        errors: list[ExpressionProblem] = []
        _check_rule(rule, rule_index, {**FIXED, "event": DYN}, errors)
        report.errors += errors
        if tested:
            seen = {_identity(p) for p in errors}
            inferred = _inferred_event([e for e in tested if e.get("type") == guard] or tested)
            found: list[ExpressionProblem] = []
            _check_rule(rule, rule_index, {**FIXED, "event": inferred}, found)
            report.warnings += [
                _as_untested(p) for p in found if (p.path, getattr(p.error, "offset", None), p.code) not in seen
            ]
    return report


def _identity(problem: ExpressionProblem) -> tuple:
    return problem.path, getattr(problem.error, "offset", None), problem.code


def _declared_event(declared: dict[str, CelType], guard: Any, rule_index: int, report: TypeReport) -> CelType:
    if isinstance(guard, str):
        if guard in declared:
            return declared[guard]
        hint = nearest(guard, declared)
        message = f"event type {guard!r} is not declared under `events`" + (f"; did you mean '{hint}'?" if hint else "")
        report.errors.append(ExpressionProblem(rule_index, ("rules", rule_index, "condition"), EventTypeError(message)))
        return DYN
    return _union("event", list(declared.values()))


def _union(name: str, shapes: list[CelType]) -> CelType:
    """One object with every field of `shapes`; a field they type differently is dyn."""
    fields: dict[str, CelType] = {}
    for shape in shapes:
        for key, value in shape.fields.items():
            fields[key] = value if fields.get(key, value) == value else DYN
    return object_type(name, fields)


def _inferred_event(events: list[dict[str, Any]]) -> CelType:
    shapes = [_inferred(event, "the test cases' events") for event in events]
    return _union("the test cases' events", shapes)


def _inferred(value: Any, name: str) -> CelType:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, (int, float)):
        return DOUBLE  # D7: every JSON number is a double
    if isinstance(value, str):
        return STRING
    if isinstance(value, dict):
        return object_type(name, {key: _inferred(item, name) for key, item in value.items()})
    if isinstance(value, list):
        items = [_inferred(item, name) for item in value]
        return list_of(items[0] if items and all(t == items[0] for t in items) else DYN)
    return DYN


def _as_untested(found: ExpressionProblem) -> ExpressionProblem:
    error = found.error
    if getattr(error, "code", "") == "DSL_UNKNOWN_FIELD" and isinstance(error, DslError):
        field_name = error.message.split("has no field '", 1)[-1].split("'", 1)[0]
        error = DslError(
            f"no test case's event has field '{field_name}'; add a test case with it, or declare the "
            "event under `events`",
            code="untested_event_field",
            offset=error.offset,
            line=error.line,
            column=error.column,
            suggestion=error.suggestion,
        )
    return ExpressionProblem(found.rule_index, found.path, error)


def _check_rule(rule: CompiledRule, rule_index: int, env: Mapping[str, CelType], out: list[ExpressionProblem]) -> None:
    for path, expression in _expressions(rule):
        if expression is None:
            continue
        for error in expression.type_errors(env):
            out.append(ExpressionProblem(rule_index, ("rules", rule_index, *path), error))


def _expressions(rule: CompiledRule) -> Iterator[tuple[Path, Any]]:
    yield ("condition",), rule.condition
    for action in rule.actions:
        base: Path = ("actions", action.index)
        yield (*base, "value" if action.type == "COUNTER" else "amount"), action.amount
        yield (*base, "reference_id"), action.reference
        target = action.action.target
        if target is not None:
            yield (*base, "target", "id"), action.target_id
            yield (*base, "target", "external_id"), action.target_external_id
