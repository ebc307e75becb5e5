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
from engine.replay.outcomes import Mismatch, Tally, outcome_of, outcome_view, reproduction_mismatch, traces_of
from engine.replay.world import ReplayWorld, Seed
from engine.rules.program import CompiledProgram

SAMPLE = 20  # changed events (and mismatches) a difference shows, with both outcomes


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
    starts: dict[str, EntityState] = {}

    def shared(participant_id: str) -> EntityState:
        """Each start read once for both worlds (each world works on a copy of its own)."""
        found = starts.get(participant_id)
        if found is None:
            found = starts[participant_id] = seed(participant_id)
        return found

    worlds = (
        ReplayWorld(baseline, seed=shared, program_state=program_state),
        ReplayWorld(candidate, seed=shared, program_state=program_state),
    )
    tallies = (Tally(), Tally())
    samples: list[ChangedEvent] = []
    mismatches: list[Mismatch] = []
    changed = mismatched = 0
    for item in history:
        if not isinstance(item, RecordedEvent):
            if item.owner_type == "PROGRAM" or item.owner_id in tracked:
                for world in worlds:
                    world.apply(item)
            continue
        before, after = worlds[0].evaluate(item), worlds[1].evaluate(item)
        tallies[0].count(before)
        tallies[1].count(after)
        old, new = outcome_of(before), outcome_of(after)
        mismatch = reproduction_mismatch(item, old)
        if mismatch is not None:
            mismatched += 1
            if len(mismatches) < sample:
                mismatches.append(mismatch)
        if old != new:
            changed += 1
            if len(samples) < sample:
                samples.append(
                    ChangedEvent(
                        event_id=item.id,
                        participant_id=item.participant_id,
                        baseline=outcome_view(old),
                        candidate=outcome_view(new),
                        baseline_trace=traces_of(worlds[0].trace_last()),
                        candidate_trace=traces_of(worlds[1].trace_last()),
                    )
                )
        if progress is not None:
            progress(1)
    names = [rule.name for rule in baseline.rules] + [rule.name for rule in candidate.rules]
    return Difference(
        events=tallies[0].events,
        participants=len(worlds[0].members),
        changed_events=changed,
        rules=rule_changes(tallies[0], tallies[1], names),
        assets=asset_changes(tallies[0], tallies[1], worlds[0].members, worlds[1].members),
        budgets=budget_changes(tallies[0], tallies[1]),
        participant_changes=participant_changes(worlds[0].members, worlds[1].members),
        samples=samples,
        reproduced=mismatched == 0,
        mismatches=mismatched,
        mismatch_samples=mismatches,
    )
