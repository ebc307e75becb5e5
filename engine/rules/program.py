"""A program compiled once for evaluating many events: every CEL field compiled, every reference
checked, the rules sorted and indexed by the event fields their conditions require.

    >>> program = compile_program(bundle)      # or ProgramCompileError listing every problem
    >>> [rule.name for rule in program.rules]  # ACTIVE rules in (order, name) order
    ['welcome', 'purchase_points']

Problems carry the path of the field (`("rules", 0, "actions", 1, "amount")`) and an error with a
stable code: a `DslError` for expressions, an `EngineError` for references (`unknown_asset`,
`unknown_tier`, `unknown_tier_level`, `duplicate_rule_name`, `invalid_target`,
`invalid_duration`, `invalid_time_window`, `invalid_scale`, `invalid_amount`, ...).

Rules whose status is not ACTIVE are compiled (so their problems are reported) but not evaluated
and not listed in results; they are in `CompiledProgram.inactive`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.errors import EngineError
from engine.limits import check_rule_count
from engine.model.amounts import AmountError, parse_decimal
from engine.model.bundle import Asset, Bundle, TierType
from engine.model.result import RuleStatus
from engine.rules.compiler import (
    CompiledAction,
    CompiledRule,
    ExpressionProblem,
    RuleCompiler,
    problem,
)

__all__ = [
    "CompiledAction",
    "CompiledProgram",
    "CompiledRule",
    "ExpressionProblem",
    "ProgramCompileError",
    "compile_program",
    "guard_key",
]


class ProgramCompileError(EngineError):
    code = "program_compile"

    def __init__(self, problems: list[ExpressionProblem]) -> None:
        first = problems[0]
        where = ".".join(str(part) for part in first.path)
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{where}: {first.error}{more}")
        self.problems = problems


@dataclass(frozen=True, eq=False)
class CompiledProgram:
    bundle: Bundle
    rules: tuple[CompiledRule, ...]  # ACTIVE rules, sorted by (order, name)
    inactive: tuple[CompiledRule, ...]
    assets: Mapping[str, Asset]
    tiers: Mapping[str, TierType]
    # event-field index: dotted path -> guard key -> positions of rules requiring that value
    index: Mapping[str, Mapping[tuple, tuple[int, ...]]] = field(default_factory=dict)
    indexed: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # path -> all its rules
    unguarded: tuple[int, ...] = ()

    def candidates(self, bindings: dict[str, Any]) -> list[bool]:
        """Which rules (by position) can match: those without an indexed guard, plus those whose
        guard value equals the event's. A rule left out has a false `&&` conjunct, so its
        condition is false whatever its other conjuncts do."""
        flags = [False] * len(self.rules)
        for position in self.unguarded:
            flags[position] = True
        for path, by_key in self.index.items():
            found, value = lookup_path(bindings, path)
            key = guard_key(value) if found else None
            chosen = self.indexed[path] if key is None else by_key.get(key, ())
            for position in chosen:
                flags[position] = True
        return flags


def guard_key(value: Any) -> tuple | None:
    """A hashable key with CEL equality for scalars: 1, 1u and 1.0 share a key, true does not."""
    kind = type(value)
    if kind is bool:
        return ("bool", value)
    if kind is str:
        return ("str", value)
    if isinstance(value, (int, float)):
        return ("num", value) if value == value else None  # NaN equals nothing
    if value is None:
        return ("null", None)
    if kind is bytes:
        return ("bytes", value)
    return None


def compile_program(bundle: Bundle, *, rule_ids: Mapping[str, tuple[str, int]] | None = None) -> CompiledProgram:
    """Compile every rule of `bundle`; raise `ProgramCompileError` listing every problem."""
    check_rule_count(len(bundle.rules))
    problems: list[ExpressionProblem] = []
    assets = {asset.symbol: asset for asset in bundle.assets}
    tiers = {tier.key: tier for tier in bundle.tiers}
    max_amounts = _max_amounts(bundle, problems)
    compiler = RuleCompiler(assets, tiers, max_amounts, problems, bundle.program.timezone)
    compiled, seen, previous_order = [], set(), 0
    for rule_index, rule in enumerate(bundle.rules):
        order = rule.order if rule.order is not None else previous_order + 10
        previous_order = max(previous_order, order)
        if rule.name in seen:
            problems.append(
                problem(rule_index, ("name",), "duplicate_rule_name", f"rule name {rule.name!r} is used twice")
            )
        seen.add(rule.name)
        ids = (rule_ids or {}).get(rule.name, (None, None))
        compiled.append(compiler.rule(rule_index, rule, order, ids))
    if problems:
        raise ProgramCompileError(problems)
    return _assemble(bundle, compiled, assets, tiers)


def _assemble(bundle, compiled, assets, tiers) -> CompiledProgram:
    ordered = sorted(compiled, key=lambda rule: (rule.order, rule.name))
    active = [rule for rule in ordered if rule.status == "ACTIVE"]
    inactive = tuple(rule for rule in ordered if rule.status != "ACTIVE")
    rules = tuple(_with_position(rule, position) for position, rule in enumerate(active))
    index: dict[str, dict[tuple, list[int]]] = {}
    indexed: dict[str, list[int]] = {}
    unguarded = []
    for rule in rules:
        guard = _index_guard(rule.condition)
        if guard is None:
            unguarded.append(rule.position)
            continue
        path, key = guard
        index.setdefault(path, {}).setdefault(key, []).append(rule.position)
        indexed.setdefault(path, []).append(rule.position)
    return CompiledProgram(
        bundle=bundle,
        rules=rules,
        inactive=inactive,
        assets=assets,
        tiers=tiers,
        index={path: {k: tuple(v) for k, v in keys.items()} for path, keys in index.items()},
        indexed={path: tuple(v) for path, v in indexed.items()},
        unguarded=tuple(unguarded),
    )


def _with_position(rule: CompiledRule, position: int) -> CompiledRule:
    return dataclasses.replace(
        rule,
        position=position,
        windowed=rule.active_from is not None or rule.active_to is not None,
        not_matched=rule.outcome(RuleStatus.NOT_MATCHED),
        outside_window=rule.outcome(RuleStatus.OUTSIDE_TIME_WINDOW),
    )


def _index_guard(condition: Any) -> tuple[str, tuple] | None:
    """The event-field guard to index a rule by: `event.type` if present, else the first event
    path in sorted order. Only `event.*` paths qualify: state can change between rules."""
    guards = {
        path: key
        for path, literal in condition.equality_guards.items()
        if path.startswith("event.") and (key := guard_key(literal)) is not None
    }
    if not guards:
        return None
    path = "event.type" if "event.type" in guards else min(guards)
    return path, guards[path]


def _max_amounts(bundle: Bundle, problems: list[ExpressionProblem]) -> dict[str, Decimal]:
    limits = {}
    for asset_index, asset in enumerate(bundle.assets):
        if asset.max_transaction_amount is None:
            continue
        try:
            limits[asset.symbol] = parse_decimal(
                asset.max_transaction_amount, scale=asset.scale, what="max_transaction_amount"
            )
        except AmountError as exc:
            path = ("assets", asset_index, "max_transaction_amount")
            problems.append(ExpressionProblem(-1, path, exc))
    return limits


def lookup_path(bindings: dict[str, Any], path: str) -> tuple[bool, Any]:
    """Follow a dotted path such as "event.type" through nested maps: (found, value)."""
    value: Any = bindings
    for part in path.split("."):
        if type(value) is not dict or part not in value:
            return False, None
        value = value[part]
    return True, value
