"""One rule compiled: its CEL fields compiled once, its references to assets, tiers and durations
checked, every problem collected with the path of the field it is in.

    >>> problems = []
    >>> compiler = RuleCompiler(assets, tiers, max_amounts={}, problems=problems)
    >>> compiled = compiler.rule(0, rule, order=10, ids=(None, None))
    >>> compiled.condition.evaluate(bindings)
    True

`engine.rules.program.compile_program` drives it for a whole bundle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from dsl.errors import DslError
from engine.errors import EngineError
from engine.limits import check_action_count, check_budget_count
from engine.model.amounts import AmountError, parse_decimal, to_amount
from engine.model.bundle import Asset, Budget, Rule, SetTier, Target
from engine.model.calendar import parse_period, period_problem, qualified
from engine.model.cron import cron_problem
from engine.model.durations import DurationError, parse_duration
from engine.model.result import RuleOutcome, RuleStatus
from engine.model.vocabulary import BALANCE_ACTIONS, CAPPED_ACTIONS
from engine.rules.expression_cache import compile_cached

Path = tuple[str | int, ...]
# D6: the CEL variables every condition and amount may name (`group`: the group the event names).
VARIABLES = frozenset({"event", "participant", "recipient", "program", "group", "now"})


@dataclass(frozen=True)
class ExpressionProblem:
    rule_index: int  # index into bundle.rules (-1 for program-level problems)
    path: Path
    error: DslError | EngineError

    @property
    def code(self) -> str:
        return self.error.code


@dataclass(frozen=True, eq=False)
class CompiledAction:
    index: int
    action: Any  # one of the engine.model.bundle action Structs
    type: str
    asset: Asset | None = None
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
    tier_archived: bool = False  # SET_TIER on an ARCHIVED tier is skipped; the event completes


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
    budgets: Mapping[str, Decimal]  # asset symbol -> limit of the program-wide budget
    status: str
    rule_id: str | None = None
    rule_version: int | None = None
    # asset symbol -> limit of the `per: participant` budget (each participant's own events, D37)
    participant_budgets: Mapping[str, Decimal] = field(default_factory=dict)
    windowed: bool = False  # has active_from or active_to
    # Outcomes of a rule that was not evaluated, made once (see RuleOutcome).
    not_matched: RuleOutcome | None = None
    outside_window: RuleOutcome | None = None
    _stopped: dict[str, RuleOutcome] = field(default_factory=dict, repr=False)

    def outcome(self, status: RuleStatus, **fields: Any) -> RuleOutcome:
        return RuleOutcome(
            rule=self.name,
            order=self.order,
            status=status,
            rule_id=self.rule_id,
            rule_version=self.rule_version,
            **fields,
        )

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


def problem(rule_index: int, path: Path, code: str, message: str) -> ExpressionProblem:
    full = ("rules", rule_index, *path) if rule_index >= 0 else path
    return ExpressionProblem(rule_index, full, EngineError(message, code=code))


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _expression_text(value: str | int | float) -> str:
    """YAML numbers in amount-like fields stand for their CEL literal (10 -> "10", 2.5 -> "2.5")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return value


class RuleCompiler:
    """Compiles one rule at a time, appending every problem it finds to `problems`."""

    def __init__(self, assets, tiers, max_amounts, problems: list[ExpressionProblem], timezone: str = "UTC") -> None:
        self.assets, self.tiers, self.max_amounts = assets, tiers, max_amounts
        self.problems = problems
        self.rule_index = -1
        self.timezone = timezone  # the program's, for calendar periods (D32)

    def fail(self, path: Path, code: str, message: str) -> None:
        self.problems.append(problem(self.rule_index, path, code, message))

    def report(self, path: Path, error: DslError | EngineError) -> None:
        full_path = ("rules", self.rule_index, *path)
        self.problems.append(ExpressionProblem(self.rule_index, full_path, error))

    def expression(self, path: Path, text: str | int | float | None) -> Any:
        if text is None:
            return None
        try:
            # Memoised by text: reloading an edited bundle compiles only the expressions that changed.
            return compile_cached(_expression_text(text), VARIABLES)
        except DslError as exc:
            self.report(path, exc)
            return None

    def duration(self, path: Path, text: str | None) -> Any:
        if text is None:
            return None
        try:
            return parse_duration(text)
        except DurationError as exc:
            self.report(path, exc)
            return None

    def rule(self, rule_index: int, rule: Rule, order: int, ids: tuple) -> CompiledRule:
        self.rule_index = rule_index
        condition = self.expression(("condition",), rule.condition)
        check_action_count(len(rule.actions))
        check_budget_count(len(rule.budgets))
        actions = tuple(self.action(("actions", index), index, action) for index, action in enumerate(rule.actions))
        active_from, active_to = _utc(rule.active_from), _utc(rule.active_to)
        if active_from is not None and active_to is not None and active_from >= active_to:
            self.fail(("active_to",), "invalid_time_window", "active_to must be after active_from")
        return CompiledRule(
            name=rule.name,
            order=order,
            position=-1,
            condition=condition,
            actions=actions,
            stop_after_match=rule.stop_after_match,
            active_from=active_from,
            active_to=active_to,
            budgets=self.budgets(rule.budgets, "program"),
            participant_budgets=self.budgets(rule.budgets, "participant"),
            status=rule.status,
            rule_id=ids[0],
            rule_version=ids[1],
        )

    def budgets(self, budgets: list[Budget], per: str) -> dict[str, Decimal]:
        """The limits of the budgets that are `per` program or participant, by asset; each budget
        is checked once (with `per == "program"`)."""
        limits: dict[str, Decimal] = {}
        for index, budget in enumerate(budgets):
            path = ("budgets", index)
            if budget.per != per:
                continue
            asset = self.asset(path, budget.asset_id)
            self.schedule(path, budget)
            if asset is None:
                continue
            if asset.symbol in limits:
                message = f"two budgets for {asset.symbol} per {per}"
                self.fail((*path, "asset_id"), "duplicate_budget", message)
            try:
                limits[asset.symbol] = parse_decimal(budget.limit, scale=asset.scale, what="limit")
            except AmountError as exc:
                self.report((*path, "limit"), exc)
        return limits

    def schedule(self, path: Path, budget: Budget) -> None:
        if budget.schedule_type == "INTERVAL":
            if budget.interval is None:
                message = "an INTERVAL budget needs an interval"
                self.fail((*path, "interval"), "invalid_duration", message)
            self.duration((*path, "interval"), budget.interval)
        if budget.schedule_type == "CRON" and budget.cron_expression is not None:
            problem = cron_problem(budget.cron_expression)
            if problem is not None:
                self.fail((*path, "cron_expression"), "invalid_cron", problem)
        if budget.schedule_type == "CALENDAR":
            problem = "a CALENDAR budget needs a period" if budget.period is None else period_problem(budget.period)
            if problem is not None:
                self.fail((*path, "period"), "invalid_period", problem)
        elif budget.period is not None:
            self.fail((*path, "period"), "invalid_period", "`period` goes with schedule_type CALENDAR")

    def reset_after(self, path: Path, text: str | None) -> str | None:
        """A counter's reset: a Go duration, or a calendar period qualified with its zone."""
        if text is None or parse_period(text) is None:
            self.duration(path, text)
            return text
        problem = period_problem(text)
        if problem is not None:
            self.fail(path, "invalid_period", problem)
        return qualified(text, self.timezone)

    def asset(self, path: Path, symbol: str) -> Asset | None:
        asset = self.assets.get(symbol)
        if asset is None:
            known = ", ".join(sorted(self.assets)) or "none"
            message = f"unknown asset {symbol!r} (known: {known})"
            self.fail((*path, "asset_id"), "unknown_asset", message)
        return asset

    def action(self, path: Path, index: int, action: Any) -> CompiledAction:
        kind = type(action).__struct_config__.tag
        fields: dict[str, Any] = {"index": index, "action": action, "type": kind}
        self.target(path, kind, action.target, fields)
        if hasattr(action, "asset_id"):
            fields["asset"] = self.asset(path, action.asset_id)
            if kind in CAPPED_ACTIONS:
                fields["max_amount"] = self.max_amounts.get(action.asset_id)
        if hasattr(action, "amount"):
            fields["amount"] = self.expression((*path, "amount"), action.amount)
            fields["constant_amount"] = self.constant_amount(path, fields)
        if kind == "COUNTER":
            fields["amount"] = self.expression((*path, "value"), action.value)
            fields["reset_after"] = self.reset_after((*path, "reset_after"), action.reset_after)
        if getattr(action, "reference_id", None) is not None:
            fields["reference"] = self.expression((*path, "reference_id"), action.reference_id)
        if kind == "CREDIT":
            fields["expires_at"] = self.moment((*path, "expires_at"), action.expires_at)
            fields["matures_at"] = self.moment((*path, "matures_at"), action.matures_at)
            self.lot_only(path, action, fields.get("asset"))
        if kind == "SCHEDULE_EVENT":
            self.duration((*path, "delay"), action.delay)
        if kind == "SET_TIER":
            fields["tier_rank"] = self.tier_rank(path, action)
            fields["expires_at"] = self.moment((*path, "expires_at"), action.expires_at)
            tier = self.tiers.get(action.tier)
            fields["tier_archived"] = tier is not None and tier.status == "ARCHIVED"
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
            self.report((*path, "amount"), exc)
            return None

    def moment(self, path: Path, text: str | None) -> Any:
        """expires_at / matures_at: a Go duration from the event's time, an RFC 3339 time, or a CEL
        expression giving either (a timestamp, a duration, or their text)."""
        if text is None:
            return None
        try:
            return parse_duration(text)
        except DurationError:
            pass
        try:
            return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            pass
        try:
            return compile_cached(text, VARIABLES)
        except DslError as exc:
            message = f"{text!r} is neither a Go duration, an RFC 3339 time nor a CEL expression ({exc.message})"
            self.fail(path, "invalid_duration", message)
            return None

    def lot_only(self, path: Path, action: Any, asset: Asset | None) -> None:
        """A credit's expiry needs lots to expire: on a SIMPLE asset it is refused, not ignored."""
        if action.expires_at is not None and asset is not None and asset.inventory_mode != "LOT":
            message = (
                f"expires_at needs a LOT asset: {asset.symbol} is {asset.inventory_mode}, whose value "
                "is one balance with no lots to expire (declare `inventory_mode: LOT` to expire credits)"
            )
            self.fail((*path, "expires_at"), "requires_lot_asset", message)

    def tier_rank(self, path: Path, action: SetTier) -> int | None:
        tier = self.tiers.get(action.tier)
        if tier is None:
            self.fail((*path, "tier"), "unknown_tier", f"unknown tier {action.tier!r}")
            return None
        for level in tier.levels:
            if level.key == action.level:
                return level.rank
        message = f"tier {action.tier!r} has no level {action.level!r}"
        self.fail((*path, "level"), "unknown_tier_level", message)
        return None

    def target(self, path: Path, kind: str, target: Target | None, fields: dict) -> None:
        if target is None:
            return
        ids = [name for name in ("id", "external_id", "participant_id") if getattr(target, name)]
        if len(ids) > 1:
            message = "give at most one of id, external_id, participant_id"
            self.fail((*path, "target"), "invalid_target", message)
        if target.type == "PROGRAM" and (kind in BALANCE_ACTIONS or kind == "SET_TIER" or ids):
            message = f"a {kind} action cannot target the program"
            self.fail((*path, "target"), "invalid_target", message)
        if target.type == "GROUP" and not (target.id or target.external_id):
            message = "a GROUP target needs an id or external_id"
            self.fail((*path, "target"), "invalid_target", message)
        id_text = target.id or target.participant_id
        fields["target_id"] = self.expression((*path, "target", "id"), id_text)
        external_id_path = (*path, "target", "external_id")
        fields["target_external_id"] = self.expression(external_id_path, target.external_id)
