"""Checks across the pieces of a bundle that compiling the rules does not make.

`engine.rules.program.compile_program` checks what rules refer to (assets, tiers, durations, time
windows, duplicate rule names). This module checks the rest, after the schema check: duplicate
asset symbols, tier keys, level keys and ranks, and test names; test cases naming unknown rules,
assets, tiers or levels; CRON budgets without a cron expression; the reward catalog
(`engine.rules.reward_check`); tier lifecycles whose fields contradict each other
(`engine.model.lifecycle.lifecycle_problems`). Every finding is an error.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from engine.model.bundle import Bundle, Expectation, Rule, StateInput, TestCase
from engine.model.lifecycle import lifecycle_problems
from engine.model.result import RuleStatus
from engine.rules.case_steps import check_steps
from engine.rules.problems import ProblemSink
from engine.rules.reward_check import check_rewards
from engine.rules.yaml_source import Path


def check(bundle: Bundle, sink: ProblemSink, *, declared: dict[str, set[str]] | None = None) -> None:
    """Report every broken or duplicate name of `bundle` into `sink`.

    `declared` holds the names the file writes per section ("rules", "assets", "tiers"), also of
    pieces left out for schema problems: naming one of those is not reported again.

    Example: a test case expecting `credits: {POINT: 10}` in a bundle whose asset is `POINTS`
    gives `unknown_asset` "unknown asset 'POINT'; did you mean 'POINTS'?" at that key.
    """
    _duplicates(
        sink,
        "duplicate_asset",
        "asset symbol",
        ((("assets", i, "symbol"), a.symbol) for i, a in enumerate(bundle.assets)),
    )
    _duplicates(sink, "duplicate_tier", "tier key", ((("tiers", i, "key"), t.key) for i, t in enumerate(bundle.tiers)))
    for i, tier in enumerate(bundle.tiers):
        levels = list(enumerate(tier.levels))
        _duplicates(
            sink, "duplicate_tier_level", "level key", ((("tiers", i, "levels", k, "key"), lv.key) for k, lv in levels)
        )
        _duplicates(
            sink,
            "duplicate_tier_level",
            "level rank",
            ((("tiers", i, "levels", k, "rank"), lv.rank) for k, lv in levels),
        )
        for problem in lifecycle_problems(tier.lifecycle, (level.key for _, level in levels)):
            sink.at(("tiers", i, "lifecycle", *problem.path), problem.code, problem.message)
    _duplicates(
        sink, "duplicate_test_name", "test name", ((("tests", i, "name"), t.name) for i, t in enumerate(bundle.tests))
    )
    names = _Names(bundle, sink, declared or {})
    check_rewards(bundle, sink, names.asset, _duplicates)
    for i, rule in enumerate(bundle.rules):
        _check_budgets(sink, rule, ("rules", i))
    for i, case in enumerate(bundle.tests):
        _check_test(names, bundle, case, ("tests", i))


class _Names:
    """The names a bundle defines, and checks that report unknown ones with a suggestion."""

    def __init__(self, bundle: Bundle, sink: ProblemSink, declared: dict[str, set[str]]) -> None:
        self.sink = sink
        self.assets = {asset.symbol for asset in bundle.assets} | declared.get("assets", set())
        self.tiers = {tier.key: {level.key for level in tier.levels} for tier in bundle.tiers}
        self.dropped_tiers = declared.get("tiers", set()) - set(self.tiers)
        self.rules = {rule.name for rule in bundle.rules} | declared.get("rules", set())
        self.rewards = {reward.name for reward in bundle.rewards} | declared.get("rewards", set())

    def asset(self, path: Path, symbol: str) -> bool:
        return self._known(path, symbol, self.assets, "unknown_asset", "asset", "declare it under `assets`")

    def rule(self, path: Path, name: str) -> None:
        self._known(path, name, self.rules, "unknown_rule", "rule", "rule names are the `name` of each rule")

    def reward(self, path: Path, name: str) -> bool:
        return self._known(path, name, self.rewards, "unknown_reward", "reward", "declare it under `rewards`")

    def tier_level(self, tier_path: Path, tier: str, level_path: Path, level: str) -> None:
        if tier in self.dropped_tiers:  # its levels are unknown: the tier itself has a problem
            return
        if self._known(tier_path, tier, self.tiers, "unknown_tier", "tier", "declare it under `tiers`"):
            self._known(level_path, level, self.tiers[tier], "unknown_tier_level", f"level of tier '{tier}'", "")

    def _known(self, path: Path, name: str, known: Iterable[str], code: str, what: str, fix: str) -> bool:
        if name in known:
            return True
        close = difflib.get_close_matches(name, list(known), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else (f"; {fix}" if fix else "")
        self.sink.at(path, code, f"unknown {what} '{name}'{hint}")
        return False


def _duplicates(sink: ProblemSink, code: str, what: str, items: Iterable[tuple[Path, object]]) -> None:
    first: dict[object, Path] = {}
    for path, value in items:
        if value in first:
            line = sink.document.position(first[value])
            where = f" (first at line {line.line})" if line else ""
            sink.at(path, code, f"duplicate {what} {value!r}{where}")
        else:
            first[value] = path


def _check_budgets(sink: ProblemSink, rule: Rule, path: Path) -> None:
    for b, budget in enumerate(rule.budgets):
        if budget.schedule_type == "CRON" and not budget.cron_expression:
            sink.at(
                (*path, "budgets", b), "missing_field", "a CRON budget needs `cron_expression` (such as '0 0 1 * *')"
            )


def _check_test(names: _Names, bundle: Bundle, case: TestCase, path: Path) -> None:
    _check_state(names, case.participant, (*path, "participant"))
    if case.recipient is not None:
        _check_state(names, case.recipient, (*path, "recipient"))
    for field in ("balances", "holds", "lots"):
        for symbol in getattr(case.group, field) if case.group is not None else {}:
            names.asset((*path, "group", field, symbol), symbol)
    for tier, level in case.group.tiers.items() if case.group is not None else ():
        names.tier_level((*path, "group", "tiers", tier), tier, (*path, "group", "tiers", tier), level)
    for rule_name, per_asset in case.budgets_consumed.items():
        names.rule((*path, "budgets_consumed", rule_name), rule_name)
        for symbol in per_asset:
            names.asset((*path, "budgets_consumed", rule_name, symbol), symbol)
    _check_journey(names, case, path)
    check_steps(names, bundle, case, path)
    _check_expect(names, case.expect, (*path, "expect"))
    for k, step in enumerate(case.steps or []):
        _check_expect(names, step.expect, (*path, "steps", k, "expect"))


def _check_journey(names: _Names, case: TestCase, path: Path) -> None:
    """A case gives one event, or steps in time order (A136)."""
    if case.steps is None:
        if case.event is None:
            names.sink.at(path, "missing_field", "a test case needs `event` (the event_data) or `steps`")
        return
    if case.event is not None:
        names.sink.at((*path, "event"), "invalid_value", "a case with `steps` gives each step's event in the step")
    moments = [step.at for step in case.steps]
    if case.starts_at is not None and case.starts_at > moments[0]:
        names.sink.at((*path, "starts_at"), "invalid_value", "starts_at must not be after the first step")
    for k in range(1, len(moments)):
        if moments[k] < moments[k - 1]:
            names.sink.at((*path, "steps", k, "at"), "invalid_value", "steps go in time order: this one is earlier")


def _check_expect(names: _Names, expect: Expectation | None, expect_path: Path) -> None:
    group = expect.group if expect is not None else None
    for field in ("credits", "debits", "balances", "lots", "expired", "matured"):
        for symbol in getattr(group, field, None) or {}:
            names.asset((*expect_path, "group", field, symbol), symbol)
    for tier, level in ((group.tiers if group is not None else None) or {}).items():
        if level is not None:  # null: no level of the tier
            path = (*expect_path, "group", "tiers", tier)
            names.tier_level(path, tier, path, level)
    while expect is not None:
        for k, rule_name in enumerate(expect.matched or []):
            names.rule((*expect_path, "matched", k), rule_name)
        for rule_name, status in (expect.statuses or {}).items():
            names.rule((*expect_path, "statuses", rule_name), rule_name)
            if status not in RuleStatus.__members__:
                allowed = ", ".join(RuleStatus.__members__)
                names.sink.at(
                    (*expect_path, "statuses", rule_name),
                    "invalid_value",
                    f"{status!r} is not a rule status; one of: {allowed}",
                )
        for field in ("credits", "debits", "balances"):
            for symbol in getattr(expect, field) or {}:
                names.asset((*expect_path, field, symbol), symbol)
        for tier, level in (expect.tiers or {}).items():
            if level is not None:  # null: no level of the tier
                names.tier_level((*expect_path, "tiers", tier), tier, (*expect_path, "tiers", tier), level)
        expect, expect_path = expect.recipient, (*expect_path, "recipient")


def _check_state(names: _Names, state: StateInput, path: Path) -> None:
    for tier, level in state.tiers.items():
        names.tier_level((*path, "tiers", tier), tier, (*path, "tiers", tier), level)
    for symbol in state.balances:
        names.asset((*path, "balances", symbol), symbol)
