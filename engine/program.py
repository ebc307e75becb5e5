"""A program compiled once for evaluating many events: every CEL field compiled, every reference
checked, the rules sorted and indexed by the event fields their conditions require.

    >>> program = compile_program(bundle)          # raises ProgramCompileError listing every problem
    >>> [rule.name for rule in program.rules]      # ACTIVE rules in (order, name) order
    ['welcome', 'purchase_points']

Problems carry the path of the field (`("rules", 0, "actions", 1, "amount")`) and an error with a
stable code: a `DslError` for expressions, an `EngineError` for references (`UNKNOWN_ASSET`,
`UNKNOWN_TIER`, `UNKNOWN_TIER_LEVEL`, `DUPLICATE_RULE_NAME`, `INVALID_TARGET`,
`INVALID_DURATION`, `INVALID_TIME_WINDOW`, `invalid_scale`, `invalid_amount`, ...).

Rules whose status is not ACTIVE are compiled (so their problems are reported) but not evaluated
and not listed in results; they are in `CompiledProgram.inactive`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from dsl import compile_expression
from dsl.errors import DslError
from engine import bundle as b
from engine.amounts import AmountError, parse_decimal, to_amount
from engine.bindings import VARIABLES, lookup_path
from engine.durations import DurationError, parse_duration
from engine.errors import EngineError
from engine.limits import check_action_count, check_budget_count, check_rule_count
from engine.result import RuleOutcome, RuleStatus

Path = tuple[str | int, ...]
BALANCE_ACTIONS = frozenset({"CREDIT", "DEBIT", "HOLD", "RELEASE", "FORFEIT", "VOID_HOLD"})


@dataclass(frozen=True)
class ExpressionProblem:
    rule_index: int  # index into bundle.rules (-1 for program-level problems)
    path: Path
    error: DslError | EngineError

    @property
    def code(self) -> str:
        return self.error.code


class ProgramCompileError(EngineError):
    code = "PROGRAM_COMPILE"

    def __init__(self, problems: list[ExpressionProblem]) -> None:
        first = problems[0]
        where = ".".join(str(part) for part in first.path)
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{where}: {first.error}{more}")
        self.problems = problems


@dataclass(frozen=True, eq=False)
class CompiledAction:
    index: int
    action: Any  # one of the engine.bundle action Structs
    type: str
    asset: b.Asset | None = None
    max_amount: Decimal | None = None
    amount: Any = None  # dsl Expression (CREDIT, DEBIT, HOLD, RELEASE, FORFEIT, COUNTER value)
    constant_amount: Decimal | None = None  # the amount when its expression is constant
    reference: Any = None
    target_id: Any = None  # id or participant_id expression
    target_external_id: Any = None
    expires_at: Any = None  # timedelta (from the event's time) or datetime
    matures_at: Any = None
    reset_after: str | None = None
    tier_rank: int | None = None


@dataclass(frozen=True, eq=False)
class CompiledRule:
    name: str
    order: int
    position: int  # index in CompiledProgram.rules
    condition: Any  # dsl Expression
    actions: tuple[CompiledAction, ...]
    stop_after_match: bool
    active_from: datetime | None
    active_to: datetime | None
    budgets: Mapping[str, Decimal]  # asset symbol -> limit
    status: str
    rule_id: str | None = None
    rule_version: int | None = None
    windowed: bool = False  # has active_from or active_to
    # Outcomes of a rule that was not evaluated, made once (see RuleOutcome).
    not_matched: RuleOutcome | None = None
    outside_window: RuleOutcome | None = None
    _stopped: dict[str, RuleOutcome] = field(default_factory=dict, repr=False)

    def outcome(self, status: RuleStatus, **fields: Any) -> RuleOutcome:
        return RuleOutcome(rule=self.name, order=self.order, status=status, rule_id=self.rule_id,
                           rule_version=self.rule_version, **fields)

    def stopped(self, by: str) -> RuleOutcome:
        """The STOPPED outcome naming the rule whose stop_after_match stopped this one."""
        outcome = self._stopped.get(by)
        if outcome is None:
            outcome = self._stopped[by] = self.outcome(RuleStatus.STOPPED, stopped_by=by)
        return outcome

    def in_window(self, received_at: datetime) -> bool:
        """D16: active in [active_from, active_to) of the event's received_at."""
        if self.active_from is not None and received_at < self.active_from:
            return False
        return self.active_to is None or received_at < self.active_to


@dataclass(frozen=True, eq=False)
class CompiledProgram:
    bundle: b.Bundle
    rules: tuple[CompiledRule, ...]  # ACTIVE rules, sorted by (order, name)
    inactive: tuple[CompiledRule, ...]
    assets: Mapping[str, b.Asset]
    tiers: Mapping[str, b.TierType]
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


def compile_program(
    bundle: b.Bundle, *, rule_ids: Mapping[str, tuple[str, int]] | None = None
) -> CompiledProgram:
    """Compile every rule of `bundle`; raise `ProgramCompileError` listing every problem."""
    check_rule_count(len(bundle.rules))
    problems: list[ExpressionProblem] = []
    assets = {asset.symbol: asset for asset in bundle.assets}
    tiers = {tier.key: tier for tier in bundle.tiers}
    max_amounts = _max_amounts(bundle, problems)
    compiler = _RuleCompiler(assets, tiers, max_amounts, problems)
    compiled, seen, previous_order = [], set(), 0
    for rule_index, rule in enumerate(bundle.rules):
        order = rule.order if rule.order is not None else previous_order + 10
        previous_order = max(previous_order, order)
        if rule.name in seen:
            problems.append(_problem(rule_index, ("name",), "DUPLICATE_RULE_NAME",
                                     f"rule name {rule.name!r} is used twice"))
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


def _problem(rule_index: int, path: Path, code: str, message: str) -> ExpressionProblem:
    full = ("rules", rule_index, *path) if rule_index >= 0 else path
    return ExpressionProblem(rule_index, full, EngineError(message, code=code))


def _max_amounts(bundle: b.Bundle, problems: list[ExpressionProblem]) -> dict[str, Decimal]:
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


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def _expression_text(value: str | int | float) -> str:
    """YAML numbers in amount-like fields stand for their CEL literal (10 -> "10", 2.5 -> "2.5")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return value


class _RuleCompiler:
    """Compiles one rule at a time, appending every problem it finds to `problems`."""

    def __init__(self, assets, tiers, max_amounts, problems: list[ExpressionProblem]) -> None:
        self.assets, self.tiers, self.max_amounts = assets, tiers, max_amounts
        self.problems = problems
        self.rule_index = -1

    def fail(self, path: Path, code: str, message: str) -> None:
        self.problems.append(_problem(self.rule_index, path, code, message))

    def expression(self, path: Path, text: str | int | float | None) -> Any:
        if text is None:
            return None
        try:
            return compile_expression(_expression_text(text), VARIABLES)
        except DslError as exc:
            self.problems.append(ExpressionProblem(self.rule_index, ("rules", self.rule_index, *path), exc))
            return None

    def duration(self, path: Path, text: str | None) -> Any:
        if text is None:
            return None
        try:
            return parse_duration(text)
        except DurationError as exc:
            self.problems.append(ExpressionProblem(self.rule_index, ("rules", self.rule_index, *path), exc))
            return None

    def rule(self, rule_index: int, rule: b.Rule, order: int, ids: tuple) -> CompiledRule:
        self.rule_index = rule_index
        condition = self.expression(("condition",), rule.condition)
        check_action_count(len(rule.actions))
        check_budget_count(len(rule.budgets))
        actions = tuple(
            self.action(("actions", index), index, action)
            for index, action in enumerate(rule.actions)
        )
        active_from, active_to = _utc(rule.active_from), _utc(rule.active_to)
        if active_from is not None and active_to is not None and active_from >= active_to:
            self.fail(("active_to",), "INVALID_TIME_WINDOW", "active_to must be after active_from")
        return CompiledRule(
            name=rule.name,
            order=order,
            position=-1,
            condition=condition,
            actions=actions,
            stop_after_match=rule.stop_after_match,
            active_from=active_from,
            active_to=active_to,
            budgets=self.budgets(rule.budgets),
            status=rule.status,
            rule_id=ids[0],
            rule_version=ids[1],
        )

    def budgets(self, budgets: list[b.Budget]) -> dict[str, Decimal]:
        limits: dict[str, Decimal] = {}
        for index, budget in enumerate(budgets):
            path = ("budgets", index)
            asset = self.asset(path, budget.asset_id)
            if budget.schedule_type == "INTERVAL":
                if budget.interval is None:
                    self.fail((*path, "interval"), "INVALID_DURATION", "an INTERVAL budget needs an interval")
                self.duration((*path, "interval"), budget.interval)
            if asset is None:
                continue
            if asset.symbol in limits:
                self.fail((*path, "asset_id"), "DUPLICATE_BUDGET", f"two budgets for {asset.symbol}")
            try:
                limits[asset.symbol] = parse_decimal(budget.limit, scale=asset.scale, what="limit")
            except AmountError as exc:
                self.problems.append(ExpressionProblem(self.rule_index, ("rules", self.rule_index, *path, "limit"), exc))
        return limits

    def asset(self, path: Path, symbol: str) -> b.Asset | None:
        asset = self.assets.get(symbol)
        if asset is None:
            known = ", ".join(sorted(self.assets)) or "none"
            self.fail((*path, "asset_id"), "UNKNOWN_ASSET", f"unknown asset {symbol!r} (known: {known})")
        return asset

    def action(self, path: Path, index: int, action: Any) -> CompiledAction:
        kind = type(action).__struct_config__.tag
        fields: dict[str, Any] = {"index": index, "action": action, "type": kind}
        self.target(path, kind, action.target, fields)
        if hasattr(action, "asset_id"):
            asset = fields["asset"] = self.asset(path, action.asset_id)
            if kind in ("CREDIT", "DEBIT"):  # max_transaction_amount caps single credits and debits
                fields["max_amount"] = self.max_amounts.get(action.asset_id)
        if hasattr(action, "amount"):
            fields["amount"] = self.expression((*path, "amount"), action.amount)
            fields["constant_amount"] = self.constant_amount(path, fields)
        if kind == "COUNTER":
            fields["amount"] = self.expression((*path, "value"), action.value)
            fields["reset_after"] = action.reset_after
            self.duration((*path, "reset_after"), action.reset_after)
        if getattr(action, "reference_id", None) is not None:
            fields["reference"] = self.expression((*path, "reference_id"), action.reference_id)
        if kind == "CREDIT":
            fields["expires_at"] = self.moment((*path, "expires_at"), action.expires_at)
            fields["matures_at"] = self.moment((*path, "matures_at"), action.matures_at)
        if kind == "SCHEDULE_EVENT":
            self.duration((*path, "delay"), action.delay)
        if kind == "SET_TIER":
            fields["tier_rank"] = self.tier_rank(path, action)
        return CompiledAction(**fields)

    def constant_amount(self, path: Path, fields: dict[str, Any]) -> Decimal | None:
        """Check a constant amount once, at compile time (a literal 10.555 for a scale-2 asset)."""
        expression, asset = fields.get("amount"), fields.get("asset")
        if expression is None or asset is None or not expression.is_constant:
            return None
        try:
            value = expression.evaluate({})
            return to_amount(value, scale=asset.scale, maximum=fields.get("max_amount"))
        except (DslError, AmountError) as exc:
            self.problems.append(ExpressionProblem(self.rule_index, ("rules", self.rule_index, *path, "amount"), exc))
            return None

    def moment(self, path: Path, text: str | None) -> Any:
        """expires_at / matures_at: a Go duration from the event's time, or an RFC 3339 time."""
        if text is None:
            return None
        try:
            return parse_duration(text)
        except DurationError:
            pass
        try:
            return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            self.fail(path, "INVALID_DURATION", f"{text!r} is neither a Go duration nor an RFC 3339 time")
            return None

    def tier_rank(self, path: Path, action: b.SetTier) -> int | None:
        tier = self.tiers.get(action.tier)
        if tier is None:
            self.fail((*path, "tier"), "UNKNOWN_TIER", f"unknown tier {action.tier!r}")
            return None
        for level in tier.levels:
            if level.key == action.level:
                return level.rank
        self.fail((*path, "level"), "UNKNOWN_TIER_LEVEL", f"tier {action.tier!r} has no level {action.level!r}")
        return None

    def target(self, path: Path, kind: str, target: b.Target | None, fields: dict[str, Any]) -> None:
        if target is None:
            return
        ids = [name for name in ("id", "external_id", "participant_id") if getattr(target, name)]
        if len(ids) > 1:
            self.fail((*path, "target"), "INVALID_TARGET", "give at most one of id, external_id, participant_id")
        if target.type == "PROGRAM" and (kind in BALANCE_ACTIONS or kind == "SET_TIER" or ids):
            self.fail((*path, "target"), "INVALID_TARGET", f"a {kind} action cannot target the program")
        if target.type == "GROUP" and not (target.id or target.external_id):
            self.fail((*path, "target"), "INVALID_TARGET", "a GROUP target needs an id or external_id")
        id_text = target.id or target.participant_id
        fields["target_id"] = self.expression((*path, "target", "id"), id_text)
        fields["target_external_id"] = self.expression((*path, "target", "external_id"), target.external_id)
