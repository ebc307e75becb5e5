"""Shadow mode, pure (A231): one event's live and shadow evaluations compared as a backtest
compares a baseline with a candidate, and a shadow's stored evaluations folded into a report of
the same shapes (`RuleChange`, `AssetChange`, `ChangedEvent`): before is live, after is shadow.

    compared = compare_event(live_result, shadow_result, live_status="COMPLETED")
    report = ShadowFold(); report.add(row_view) ...; report.rules(names), report.assets()
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import msgspec

from engine.model.result import EvaluationResult
from engine.replay.difference import AssetChange, ChangedEvent, RuleChange, rule_changes
from engine.replay.outcomes import FLOWS, ZERO, AssetFlows, Outcome, RuleCounts, Tally, outcome_of, outcome_view

ERROR = "ERROR"  # a shadow that could not compile or evaluate: recorded, counted, never dropped


class EventComparison(msgspec.Struct, kw_only=True):
    """One event under both rulesets: outcomes as plain data (`outcome_view`), the value each
    would have moved per asset symbol, and whether they differ."""

    live: dict[str, Any]
    shadow: dict[str, Any]
    live_flows: dict[str, dict[str, str]]
    shadow_flows: dict[str, dict[str, str]]
    differs: bool


def _flows(outcome: Outcome) -> dict[str, dict[str, str]]:
    """Value moved per asset by an outcome's applied actions; nothing for an event that failed."""
    status, _, rules = outcome
    found: dict[str, AssetFlows] = {}
    if status == "COMPLETED":
        for _, _, actions in rules:
            for kind, asset, amount in actions:
                flow = FLOWS.get(kind)
                if flow is None or asset is None or amount is None:
                    continue
                flows = found.setdefault(asset, AssetFlows())
                setattr(flows, flow, getattr(flows, flow) + amount)
    return {asset: msgspec.to_builtins(flows) for asset, flows in sorted(found.items())}


def _same(first: Outcome, second: Outcome) -> bool:
    """Outcomes are the same when status, error and the listed rules with their actions agree
    (rules in any order: the shadow may order them otherwise)."""
    return first[:2] == second[:2] and sorted(first[2], key=repr) == sorted(second[2], key=repr)


def live_outcome(result: EvaluationResult, status: str, error_code: str | None) -> Outcome:
    """The live outcome as it ended: a refusal found by storage (D14) fails an evaluation the
    engine completed, and then nothing moved."""
    _, _, rules = outcome_of(result)
    return status, error_code if status != "COMPLETED" else None, rules


def compare_event(
    live: Outcome, shadow: EvaluationResult | None, error: tuple[str, str] | None = None
) -> EventComparison:
    """Compare the live outcome with the shadow's evaluation, or, when the shadow could not run
    (`shadow` None), with an ERROR outcome carrying `error`'s code and listing no rule."""
    if shadow is not None:
        shadowed = outcome_of(shadow)
    else:
        shadowed = (ERROR, error[0] if error else "shadow_error", ())
    return EventComparison(
        live=outcome_view(live),
        shadow=outcome_view(shadowed),
        live_flows=_flows(live),
        shadow_flows=_flows(shadowed),
        differs=not _same(live, shadowed),
    )


def _count(tally: Tally, view: dict[str, Any], flows: dict[str, dict[str, str]]) -> None:
    tally.events += 1
    if view["status"] != "COMPLETED":
        tally.failed += 1
    for rule in view["rules"]:
        counts = tally.rules.setdefault(rule["rule"], RuleCounts())
        if rule["status"] == "MATCHED":
            counts.matched += 1
        elif rule["status"] in ("SKIPPED_ERROR", "SKIPPED_TIMEOUT"):
            counts.erroring += 1
        else:
            counts.skipped += 1
    for asset, moved in flows.items():
        total = tally.assets.setdefault(asset, AssetFlows())
        for flow, amount in moved.items():
            setattr(total, flow, getattr(total, flow) + Decimal(amount))


def _net(flows: AssetFlows) -> Decimal:
    """What a flow adds to what the program owes: credits add, debits and forfeits take away
    (a hold moves value between a participant's buckets)."""
    return flows.credited - flows.debited - flows.forfeited


class ShadowFold:
    """A shadow's stored evaluations folded one at a time (memory bounded by rules and assets)."""

    def __init__(self) -> None:
        self.live, self.shadow = Tally(), Tally()
        self.differing = 0
        self.errors = 0
        self.error_codes: dict[str, int] = {}

    def add(self, row: dict[str, Any]) -> None:
        """One stored evaluation: its `live`, `shadowed`, `live_flows`, `shadow_flows`, `differs`."""
        _count(self.live, row["live"], row["live_flows"])
        _count(self.shadow, row["shadowed"], row["shadow_flows"])
        self.differing += bool(row["differs"])
        if row["shadowed"]["status"] == ERROR:
            self.errors += 1
            code = str(row["shadowed"].get("error_code") or "shadow_error")
            self.error_codes[code] = self.error_codes.get(code, 0) + 1

    def rules(self, names: list[str]) -> list[RuleChange]:
        """Per rule, live (before) against shadow (after), `names` first."""
        return rule_changes(self.live, self.shadow, names)

    def assets(self) -> list[AssetChange]:
        """Per asset, value moved live (before) and by the shadow (after); `liability_change` is
        the difference the shadow's flows would have made to what the program owes."""
        symbols = sorted(set(self.live.assets) | set(self.shadow.assets))
        found = []
        for symbol in symbols:
            before = self.live.assets.get(symbol, AssetFlows())
            after = self.shadow.assets.get(symbol, AssetFlows())
            found.append(
                AssetChange(asset=symbol, before=before, after=after, liability_change=_net(after) - _net(before))
            )
        return found


class ShadowReport(msgspec.Struct, kw_only=True):
    """Live against shadow over a shadow's evaluations, in the backtest's shapes: `before` is
    live, `after` the shadow. `errors` counts events the shadow could not evaluate at all (by
    code in `error_codes`); a rule that errored is counted in its `erroring`."""

    events: int
    differing: int
    errors: int
    error_codes: dict[str, int]
    rules: list[RuleChange]
    assets: list[AssetChange]
    samples: list[ChangedEvent]


def shadow_report(rows: Iterable[dict[str, Any]], rule_names: list[str], *, sample: int) -> ShadowReport:
    """Fold stored evaluations (`ShadowFold.add`'s rows, with `event_id` and `participant_id`)
    into the report, keeping the first `sample` events that differ."""
    fold, samples = ShadowFold(), list[ChangedEvent]()
    for row in rows:
        fold.add(row)
        if row["differs"] and len(samples) < sample:
            samples.append(changed_event(row))
    return ShadowReport(
        events=fold.live.events,
        differing=fold.differing,
        errors=fold.errors,
        error_codes=dict(sorted(fold.error_codes.items())),
        rules=fold.rules(rule_names),
        assets=fold.assets(),
        samples=samples,
    )


def changed_event(row: dict[str, Any]) -> ChangedEvent:
    """A stored evaluation as the backtest's changed event: baseline is live, candidate shadow."""
    return ChangedEvent(
        event_id=row["event_id"],
        participant_id=row["participant_id"] or "",
        baseline=row["live"],
        candidate=row["shadowed"],
    )


__all__ = [
    "ERROR",
    "ZERO",
    "EventComparison",
    "ShadowFold",
    "ShadowReport",
    "changed_event",
    "compare_event",
    "live_outcome",
    "shadow_report",
]
