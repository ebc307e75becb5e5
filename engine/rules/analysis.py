"""Static analysis of a compiled program: things that are legal but almost certainly not meant.

All findings are warnings (`accrual check --strict` turns them into a failing exit code):

    unreachable_rule       a rule after a catch-all `stop_after_match` rule can never run
    duplicate_order        two ACTIVE rules share an `order` (the API refuses that; here names
                           break the tie)
    unused_asset           an asset no action or budget uses
    constant_condition     a condition that does not depend on the event or on any state
    budget_without_credit  a budget for an asset the rule never credits (it can never apply)
"""

from __future__ import annotations

from typing import Any

from dsl.errors import DslError
from engine.model.bundle import Bundle, Credit
from engine.rules.problems import ProblemSink


def analyze(bundle: Bundle, program: Any, sink: ProblemSink) -> None:
    """Report warnings about `program` (compiled from `bundle`) into `sink`.

    Example: with rule `fallback` (order 100, condition `true`, stop_after_match) before rule
    `bonus` (order 200), `bonus` gets unreachable_rule "never runs: 'fallback' (order 100)
    matches every event and stops the rules after it".
    """
    index = {rule.name: i for i, rule in enumerate(bundle.rules)}
    _unreachable(program, index, sink)
    _duplicate_orders(program, index, sink)
    _constant_conditions(bundle, program, index, sink)
    _unused_assets(bundle, sink)
    _budgets_without_credit(bundle, sink)


def _constant_value(condition: Any) -> tuple[bool, Any]:
    """(True, value) when the condition is constant; the value is the DslError if it always fails."""
    if condition is None or not condition.is_constant:
        return False, None
    try:
        return True, condition.evaluate({})
    except DslError as exc:
        return True, exc


def _catch_all(rule: Any) -> bool:
    constant, value = _constant_value(rule.condition)
    return rule.stop_after_match and constant and value is True and rule.active_from is None and rule.active_to is None


def _unreachable(program: Any, index: dict[str, int], sink: ProblemSink) -> None:
    stopper = None
    for rule in program.rules:  # ACTIVE rules in evaluation order
        if stopper is not None:
            sink.at(
                ("rules", index[rule.name], "name"),
                "unreachable_rule",
                f"never runs: '{stopper.name}' (order {stopper.order}) matches every event "
                "and stops the rules after it",
                severity="warning",
            )
        elif _catch_all(rule):
            stopper = rule


def _duplicate_orders(program: Any, index: dict[str, int], sink: ProblemSink) -> None:
    first: dict[int, str] = {}
    for rule in program.rules:
        if rule.order in first:
            sink.at(
                ("rules", index[rule.name], "order"),  # the rule itself when its order is implicit
                "duplicate_order",
                f"order {rule.order} is also the order of active rule '{first[rule.order]}'; the API refuses "
                "two active rules with one order (leave gaps: 10, 20, 30)",
                severity="warning",
            )
        else:
            first[rule.order] = rule.name


def _constant_conditions(bundle: Bundle, program: Any, index: dict[str, int], sink: ProblemSink) -> None:
    for rule in program.rules:
        constant, value = _constant_value(rule.condition)
        if not constant or (value is True and bundle.rules[index[rule.name]].condition.strip() == "true"):
            continue  # a literal `true` says "every event" on purpose
        if isinstance(value, DslError):
            message = f"the condition fails for every event ({value.code}: {value.message}); the rule never matches"
        elif value is True:
            message = "the condition is always true; write `true` if the rule should match every event"
        else:
            message = f"the condition is always {_cel(value)}; the rule never matches"
        sink.at(("rules", index[rule.name], "condition"), "constant_condition", message, severity="warning")


def _cel(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _unused_assets(bundle: Bundle, sink: ProblemSink) -> None:
    used = {getattr(action, "asset_id", None) for rule in bundle.rules for action in rule.actions}
    used |= {budget.asset_id for rule in bundle.rules for budget in rule.budgets}
    for i, asset in enumerate(bundle.assets):
        if asset.symbol not in used:
            sink.at(("assets", i, "symbol"), "unused_asset", f"no rule uses asset '{asset.symbol}'", severity="warning")


def _budgets_without_credit(bundle: Bundle, sink: ProblemSink) -> None:
    for i, rule in enumerate(bundle.rules):
        credited = {action.asset_id for action in rule.actions if isinstance(action, Credit)}
        for b, budget in enumerate(rule.budgets):
            if budget.asset_id not in credited:
                sink.at(
                    ("rules", i, "budgets", b, "asset_id"),
                    "budget_without_credit",
                    f"the rule never credits {budget.asset_id}, so this budget never applies "
                    "(budgets count CREDIT amounts)",
                    severity="warning",
                )
