"""One ruleset's replay of a history: the participants it has met, the program's state and what
each budget consumed, changed by each evaluated event and by the recorded changes the replay does
not make (the API, the scheduler, other programs: `LedgerChange`, `StateRecord`).

    world = ReplayWorld(program, seed=starts.participant, program_state=starts.program())
    result = world.evaluate(event)            # evaluated against the world, then absorbed into it
    world.apply(change)                       # a recorded change, for a participant it tracks

Each world starts each participant from a copy of the same seed (the state just ahead of the
window), so two worlds never share a mutable state.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from itertools import count

import msgspec

from engine.evaluator.evaluate import evaluate_event, lot_orders
from engine.model.history import LedgerChange, RecordedEvent, StateRecord
from engine.model.lots import LotPile, LotStatus
from engine.model.result import EvaluationResult
from engine.model.state import (
    Balance,
    BudgetState,
    CounterState,
    EntityState,
    EvaluationInput,
    EventInput,
    ProgramState,
    TierState,
)
from engine.model.vocabulary import EventStatus
from engine.rules.program import CompiledProgram

ZERO = Decimal(0)
_FIELD = {"AVAILABLE": "available", "HELD": "held", "DEFERRED": "deferred"}
Seed = Callable[[str], EntityState]


class ReplayWorld:
    """The state one ruleset's replay has reached."""

    def __init__(self, program: CompiledProgram, *, seed: Seed, program_state: ProgramState) -> None:
        self.program = program
        self.seed = seed
        self.program_state = copy.deepcopy(program_state)
        self.members: dict[str, EntityState] = {}
        self.starts: dict[str, EntityState] = {}
        self.budgets: dict[tuple[str, str], BudgetState] = {}
        self.member_budgets: dict[str, dict[tuple[str, str], BudgetState]] = {}
        self._orders = lot_orders(program)
        self._ids = count(1)
        self.last_inputs: EvaluationInput | None = None  # what the last event was evaluated with

    def member(self, participant_id: str) -> EntityState:
        """The participant as this world has it (seeded on first use)."""
        found = self.members.get(participant_id)
        if found is None:
            start = state_copy(self.seed(participant_id))  # the seed may be shared with another world
            _rank_tiers(self.program, start)
            self.starts[participant_id] = start
            found = self.members[participant_id] = state_copy(start)
        return found

    def evaluate(self, event: RecordedEvent) -> EvaluationResult:
        """Evaluate `event` as recorded (its data, `now` and receive time) against this world,
        and keep what it changed when it completed."""
        recipient_id = event.recipient_id if event.recipient_id != event.participant_id else None
        inputs = EvaluationInput(
            event=EventInput(
                event_data=event.event_data,
                event_timestamp=event.event_timestamp,
                received_at=event.received_at,
                id=event.id,
            ),
            # "" is an event of no participant: a program-scope automation's (A220)
            participant=self.member(event.participant_id) if event.participant_id else None,
            recipient=self.member(recipient_id) if recipient_id else None,
            program_state=self.program_state,
            budgets=dict(self.budgets),  # copies: `last_inputs` must keep what this event saw
            participant_budgets=dict(self.member_budgets.get(event.participant_id, {})),
        )
        self.last_inputs = inputs
        result = evaluate_event(self.program, inputs)
        if result.status == EventStatus.COMPLETED:
            self._absorb(event, recipient_id, result)
        return result

    def trace_last(self) -> EvaluationResult:
        """The last event evaluated again with every condition traced (what a sample shows)."""
        assert self.last_inputs is not None, "no event evaluated yet"
        return evaluate_event(self.program, self.last_inputs, trace=True)

    def _absorb(self, event: RecordedEvent, recipient_id: str | None, result: EvaluationResult) -> None:
        if result.participant is not None:
            self.members[event.participant_id] = result.participant
        if recipient_id and result.recipient is not None:
            self.members[recipient_id] = result.recipient
        self.program_state = result.program
        for use in result.budget_uses:
            key = (use.rule, use.asset)
            budgets = self.budgets if use.per == "program" else self.member_budgets.setdefault(event.participant_id, {})
            budgets[key] = BudgetState(consumed=budgets.get(key, BudgetState()).consumed + use.amount)

    # --- changes the replay does not make -----------------------------------------------------

    def apply(self, change: LedgerChange | StateRecord) -> None:
        """Apply a recorded change to the participant (or program) it names."""
        if isinstance(change, LedgerChange):
            if change.owner_type == "PARTICIPANT":
                self._apply_ledger(self.member(change.owner_id), change)
        elif change.owner_type == "PROGRAM":
            holder = EntityState(
                tags=self.program_state.tags,
                counters=self.program_state.counters,
                attributes=self.program_state.attributes,
            )
            _apply_state(self.program, holder, change)
            self.program_state.tags = holder.tags
        else:
            _apply_state(self.program, self.member(change.owner_id), change)

    def _apply_ledger(self, entity: EntityState, change: LedgerChange) -> None:
        balance = entity.balances.setdefault(change.asset, Balance())
        for bucket, delta in change.deltas.items():
            setattr(balance, _FIELD[bucket], getattr(balance, _FIELD[bucket]) + delta)
        if change.reference_id is not None and "HELD" in change.deltas:
            held = entity.holds.setdefault(change.asset, {})
            left = held.get(change.reference_id, ZERO) + change.deltas["HELD"]
            if left == 0:
                held.pop(change.reference_id, None)
            else:
                held[change.reference_id] = left
        order = self._orders.get(change.asset)
        if order is not None:
            self._apply_lots(entity, change, order)

    def _apply_lots(self, entity: EntityState, change: LedgerChange, order: str) -> None:
        """The lots of a LOT asset: a credit makes its lot, value leaving AVAILABLE takes from the
        lots in spending order; expiry and maturity are left to the evaluator, which settles the
        lots at each event's receive time."""
        if change.action_type in ("EXPIRY", "MATURITY"):
            return
        pile = LotPile(entity.lots.setdefault(change.asset, []), order, lambda: f"replay-{next(self._ids)}")
        available = change.deltas.get("AVAILABLE", ZERO)
        if change.lot is not None:
            spec = change.lot
            pile.credit(
                sum(change.deltas.values(), ZERO),
                as_of=spec.created_at,
                status=LotStatus.HELD if change.deltas.get("HELD", ZERO) > 0 else LotStatus.AVAILABLE,
                expires_at=spec.expires_at,
                matures_at=spec.matures_at,
                reference_id=spec.reference_id,
            )
        elif available < 0:
            pile.take(-available, as_of=change.at, allow_short=True)  # short: the rest is an overdraft


def state_copy(state: EntityState) -> EntityState:
    """A copy of `state` that shares nothing a replay changes: its maps, lists, balances and lots
    are copied; the values in them are immutable or only ever replaced (counters, tiers). What
    `copy.deepcopy` gives, at a fraction of its cost (one per participant and world)."""
    return EntityState(
        id=state.id,
        external_id=state.external_id,
        status=state.status,
        tags=list(state.tags),
        counters=dict(state.counters),
        attributes=dict(state.attributes),
        tiers=dict(state.tiers),
        balances={symbol: msgspec.structs.replace(balance) for symbol, balance in state.balances.items()},
        holds={symbol: dict(held) for symbol, held in state.holds.items()},
        lots={symbol: [msgspec.structs.replace(lot) for lot in lots] for symbol, lots in state.lots.items()},
    )


def _apply_state(program: CompiledProgram, entity: EntityState, record: StateRecord) -> None:
    key, new = record.key, record.new_value
    if record.state_type == "tag":
        tags = set(entity.tags)
        (tags.add if record.operation == "add" else tags.discard)(key)
        entity.tags = sorted(tags)
    elif record.state_type == "attribute":
        if new is None:
            entity.attributes.pop(key, None)
        else:
            entity.attributes[key] = new
    elif record.state_type == "counter":
        if new is None:
            entity.counters.pop(key, None)
        else:
            current = entity.counters.get(key)
            value = Decimal(new)
            if record.from_event and current is not None and record.operation != "auto_reset":
                value = current.value + value - Decimal(record.old_value or 0)  # a rule increments
            entity.counters[key] = CounterState(
                value=value,
                reset_after=current.reset_after if current else None,
                last_reset_at=record.event_timestamp
                if record.operation == "auto_reset"
                else (current.last_reset_at if current else record.event_timestamp),
            )
    elif record.state_type == "tier":
        if new is None:
            entity.tiers.pop(key, None)
        else:
            entity.tiers[key] = TierState(level=new, rank=_rank(program, key, new))


def _rank(program: CompiledProgram, tier: str, level: str) -> int:
    tier_type = program.tiers.get(tier)
    if tier_type is not None:
        for candidate in tier_type.levels:
            if candidate.key == level:
                return candidate.rank
    return 0


def _rank_tiers(program: CompiledProgram, entity: EntityState) -> None:
    """Tier levels a start took back out of history carry no rank: read it from the program."""
    for key, state in entity.tiers.items():
        entity.tiers[key] = TierState(level=state.level, rank=_rank(program, key, state.level) or state.rank)
