"""The difference two replays make, as a backtest reports it (D36): per rule, per asset, per
participant (largest first), a sample of the events whose outcome changed, and the recorded
events the baseline did not reproduce.

    difference = compare(baseline_world, candidate_world, baseline_tally, candidate_tally, ...)
    difference.empty          # True when the candidate changes nothing
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from engine.model.state import Balance, EntityState
from engine.replay.outcomes import AssetFlows, Mismatch, RuleCounts, Tally

ZERO = Decimal(0)


class RuleChange(msgspec.Struct, kw_only=True):
    rule: str
    before: RuleCounts
    after: RuleCounts


class DailyCredit(msgspec.Struct, kw_only=True):
    """Value of one asset credited on one UTC day (of the events' `now`) by each ruleset."""

    day: str
    before: Decimal
    after: Decimal


class AssetChange(msgspec.Struct, kw_only=True):
    """Value moved by each ruleset, and the change in what the program owes its participants (the
    sum of their balances at the end of the window) the candidate makes. `daily` has every day
    from the first to the last on which either ruleset credited the asset, zeros included, so it
    charts as a continuous series."""

    asset: str
    before: AssetFlows
    after: AssetFlows
    liability_change: Decimal
    daily: list[DailyCredit] = msgspec.field(default_factory=list)


class BudgetChange(msgspec.Struct, kw_only=True):
    """A rule whose budget refused a credit under one ruleset and not the other, or from another
    moment: the receive time of the first event it refused (None: never, in the window). Budgets
    start the window with nothing consumed (A160)."""

    rule: str
    before: datetime | None
    after: datetime | None


class ParticipantChange(msgspec.Struct, kw_only=True):
    """What ends differently for one participant: `balances` maps an asset to its
    {bucket: [before, after]}, the others a key to [before, after] (None: absent)."""

    participant_id: str
    external_id: str | None
    magnitude: Decimal  # the sum of the balance differences, what "largest first" sorts by
    balances: dict[str, dict[str, list[Decimal]]] = msgspec.field(default_factory=dict)
    tags: dict[str, list[bool]] = msgspec.field(default_factory=dict)
    counters: dict[str, list[Decimal | None]] = msgspec.field(default_factory=dict)
    attributes: dict[str, list[str | None]] = msgspec.field(default_factory=dict)
    tiers: dict[str, list[str | None]] = msgspec.field(default_factory=dict)


class ChangedEvent(msgspec.Struct, kw_only=True):
    """An event whose outcome the candidate changed, with both outcomes and both traces (each
    rule's condition, every sub-expression with its value, by rule)."""

    event_id: str
    participant_id: str
    baseline: dict[str, Any]
    candidate: dict[str, Any]
    baseline_trace: dict[str, list[dict[str, Any]]] = msgspec.field(default_factory=dict)
    candidate_trace: dict[str, list[dict[str, Any]]] = msgspec.field(default_factory=dict)


class Difference(msgspec.Struct, kw_only=True):
    events: int
    participants: int
    changed_events: int
    rules: list[RuleChange]
    assets: list[AssetChange]
    budgets: list[BudgetChange]
    participant_changes: list[ParticipantChange]
    samples: list[ChangedEvent]
    reproduced: bool
    mismatches: int
    mismatch_samples: list[Mismatch]

    @property
    def empty(self) -> bool:
        """Whether the candidate changes nothing the backtest reports."""
        moved = self.changed_events or self.participant_changes or self.budgets or any(_moved(a) for a in self.assets)
        return not moved and all(change.before == change.after for change in self.rules)


def _moved(change: AssetChange) -> bool:
    return change.before != change.after or change.liability_change != 0


def rule_changes(before: Tally, after: Tally, names: list[str]) -> list[RuleChange]:
    """Every rule either ruleset has or counted, in `names` order (then by name)."""
    seen = list(dict.fromkeys([*names, *sorted(set(before.rules) | set(after.rules))]))
    return [
        RuleChange(rule=name, before=before.rules.get(name, RuleCounts()), after=after.rules.get(name, RuleCounts()))
        for name in seen
    ]


def budget_changes(before: Tally, after: Tally) -> list[BudgetChange]:
    """Budgets first exhausted at another moment (or only) under one ruleset, by rule name."""
    return [
        BudgetChange(rule=rule, before=before.exhausted.get(rule), after=after.exhausted.get(rule))
        for rule in sorted(set(before.exhausted) | set(after.exhausted))
        if before.exhausted.get(rule) != after.exhausted.get(rule)
    ]


def asset_changes(
    before: Tally, after: Tally, baseline_end: dict[str, EntityState], candidate_end: dict[str, EntityState]
) -> list[AssetChange]:
    symbols = sorted(set(before.assets) | set(after.assets) | _symbols(baseline_end) | _symbols(candidate_end))
    return [
        AssetChange(
            asset=symbol,
            before=before.assets.get(symbol, AssetFlows()),
            after=after.assets.get(symbol, AssetFlows()),
            liability_change=_owed(candidate_end, symbol) - _owed(baseline_end, symbol),
            daily=daily_credits(before.credited_by_day.get(symbol, {}), after.credited_by_day.get(symbol, {})),
        )
        for symbol in symbols
    ]


def daily_credits(before: dict[str, Decimal], after: dict[str, Decimal]) -> list[DailyCredit]:
    """Both rulesets' credits per day, every day from the first to the last either credited on."""
    days = sorted(set(before) | set(after))
    if not days:
        return []
    first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    every = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    return [DailyCredit(day=day, before=before.get(day, ZERO), after=after.get(day, ZERO)) for day in every]


def _symbols(members: dict[str, EntityState]) -> set[str]:
    return {symbol for entity in members.values() for symbol in entity.balances}


def _owed(members: dict[str, EntityState], symbol: str) -> Decimal:
    total = ZERO
    for entity in members.values():
        balance = entity.balances.get(symbol)
        if balance is not None:
            total += balance.available + balance.held + balance.deferred
    return total


def participant_changes(baseline: dict[str, EntityState], candidate: dict[str, EntityState]) -> list[ParticipantChange]:
    """Participants whose end state differs, the largest balance difference first."""
    found = []
    for participant_id in sorted(set(baseline) | set(candidate)):
        before, after = baseline.get(participant_id), candidate.get(participant_id)
        change = _participant_change(participant_id, before or EntityState(), after or EntityState())
        if change is not None:
            found.append(change)
    return sorted(found, key=lambda change: (-change.magnitude, change.participant_id))


def _participant_change(participant_id: str, before: EntityState, after: EntityState) -> ParticipantChange | None:
    change = ParticipantChange(
        participant_id=participant_id, external_id=before.external_id or after.external_id, magnitude=ZERO
    )
    for symbol in sorted(set(before.balances) | set(after.balances)):
        old, new = before.balances.get(symbol, Balance()), after.balances.get(symbol, Balance())
        buckets = {
            bucket: [getattr(old, bucket), getattr(new, bucket)]
            for bucket in ("available", "held", "deferred")
            if getattr(old, bucket) != getattr(new, bucket)
        }
        if buckets:
            change.balances[symbol] = buckets
            change.magnitude += sum((abs(b - a) for a, b in buckets.values()), ZERO)
    for tag in sorted(set(before.tags) ^ set(after.tags)):
        change.tags[tag] = [tag in before.tags, tag in after.tags]
    for key in sorted(set(before.counters) | set(after.counters)):
        old_counter, new_counter = before.counters.get(key), after.counters.get(key)
        values = [None if c is None else c.value for c in (old_counter, new_counter)]
        if values[0] != values[1]:
            change.counters[key] = values
    for key in sorted(set(before.attributes) | set(after.attributes)):
        if before.attributes.get(key) != after.attributes.get(key):
            change.attributes[key] = [before.attributes.get(key), after.attributes.get(key)]
    for key in sorted(set(before.tiers) | set(after.tiers)):
        levels = [None if t is None else t.level for t in (before.tiers.get(key), after.tiers.get(key))]
        if levels[0] != levels[1]:
            change.tiers[key] = levels
    differs = change.balances or change.tags or change.counters or change.attributes or change.tiers
    return change if differs else None


def difference_document(window: Any, difference: Difference) -> dict[str, Any]:
    """The difference as plain data, the same for `accrual backtest --json` and the API: the
    window (a `Window`), whether it is empty, then every field of the difference."""
    return {"window": msgspec.to_builtins(window), "empty": difference.empty, **msgspec.to_builtins(difference)}
