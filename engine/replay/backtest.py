"""A backtest (D36): one recorded history replayed under a baseline and a candidate ruleset, each
in a world of its own, and the difference between them.

    difference = run_backtest(baseline, candidate, history, seed=starts.participant,
                              program_state=starts.program(), tracked=participant_ids)

`history` is the window's recorded events and the changes made around them, in the recorded
order (`engine/store/history/source.py` weaves them). Each event is evaluated as recorded (its
data, `now` and receive time) by both worlds; the baseline's outcome is checked against what was
recorded. Nothing here reads a clock or writes anything: the same history gives the same
difference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from engine.model.history import History, RecordedEvent
from engine.model.state import EntityState, ProgramState
from engine.replay.difference import (
    ChangedEvent,
    Difference,
    asset_changes,
    budget_changes,
    participant_changes,
    rule_changes,
)
from engine.replay.outcomes import (
    Mismatch,
    Outcome,
    Tally,
    outcome_of,
    outcome_view,
    reproduction_mismatch,
    traces_of,
)
from engine.replay.world import ReplayWorld, Seed
from engine.rules.program import CompiledProgram

SAMPLE = 20  # changed events (and mismatches) a difference shows, with both outcomes


class _Comparison:
    """What the two worlds' outcomes of each event add up to: the changed events and the
    recorded outcomes the baseline missed, each counted and sampled."""

    def __init__(self, sample: int) -> None:
        self.sample = sample
        self.changed = self.mismatched = 0
        self.samples: list[ChangedEvent] = []
        self.mismatches: list[Mismatch] = []

    def add(self, event: RecordedEvent, worlds: tuple[ReplayWorld, ReplayWorld], old: Outcome, new: Outcome) -> None:
        mismatch = reproduction_mismatch(event, old)
        if mismatch is not None:
            self.mismatched += 1
            if len(self.mismatches) < self.sample:
                self.mismatches.append(mismatch)
        if old == new:
            return
        self.changed += 1
        if len(self.samples) < self.sample:
            self.samples.append(
                ChangedEvent(
                    event_id=event.id,
                    participant_id=event.participant_id,
                    baseline=outcome_view(old),
                    candidate=outcome_view(new),
                    baseline_trace=traces_of(worlds[0].trace_last()),
                    candidate_trace=traces_of(worlds[1].trace_last()),
                )
            )


def _shared(seed: Seed) -> Seed:
    """`seed`, each start read once for both worlds (each world works on a copy of its own)."""
    starts: dict[str, EntityState] = {}

    def shared(participant_id: str) -> EntityState:
        found = starts.get(participant_id)
        if found is None:
            found = starts[participant_id] = seed(participant_id)
        return found

    return shared


def run_backtest(
    baseline: CompiledProgram,
    candidate: CompiledProgram,
    history: Iterable[History],
    *,
    seed: Seed,
    program_state: ProgramState,
    tracked: set[str],
    progress: Callable[[int], None] | None = None,
    sample: int = SAMPLE,
) -> Difference:
    """Replay `history` under both rulesets; `tracked` names the participants the window's events
    involve (changes to anyone else are skipped); `progress` is called with 1 per event."""
    shared = _shared(seed)
    worlds = (
        ReplayWorld(baseline, seed=shared, program_state=program_state),
        ReplayWorld(candidate, seed=shared, program_state=program_state),
    )
    tallies, comparison = (Tally(), Tally()), _Comparison(sample)
    for item in history:
        if not isinstance(item, RecordedEvent):
            if item.owner_type == "PROGRAM" or item.owner_id in tracked:
                for world in worlds:
                    world.apply(item)
            continue
        before, after = worlds[0].evaluate(item), worlds[1].evaluate(item)
        tallies[0].count(before)
        tallies[1].count(after)
        comparison.add(item, worlds, outcome_of(before), outcome_of(after))
        if progress is not None:
            progress(1)
    names = [rule.name for rule in baseline.rules] + [rule.name for rule in candidate.rules]
    return Difference(
        events=tallies[0].events,
        participants=len(worlds[0].members),
        changed_events=comparison.changed,
        rules=rule_changes(tallies[0], tallies[1], names),
        assets=asset_changes(tallies[0], tallies[1], worlds[0].members, worlds[1].members),
        budgets=budget_changes(tallies[0], tallies[1]),
        participant_changes=participant_changes(worlds[0].members, worlds[1].members),
        samples=comparison.samples,
        reproduced=comparison.mismatched == 0,
        mismatches=comparison.mismatched,
        mismatch_samples=comparison.mismatches,
    )
