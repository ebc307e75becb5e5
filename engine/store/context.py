"""Everything `engine.evaluator.evaluate.evaluate_event` needs for one stored event.

    context = load_event_context(record)            # the event's row, or its id
    result = evaluate_event(context.program, context.inputs)
    post_event_effects(record.id, result)

Loading reads without locks: `post_event_effects` re-checks whatever can have changed in between
(balances, statuses, budgets) under locks before it writes. Before loading, the event's
participants are resolved once (D11, D17): by external id, created when the program's
`on_unknown_participant` is CREATE, and enrolled in the program. A SYSTEM event that names no
participant (a program-scope automation's, A220) is evaluated with none: its rules see
`participant` as null, and an action that needs one fails the event (`participant_required`).

This runs for every event the worker processes, so every read is a statement whose SQL text is
built once (`statements`): the program row (its `rules_version` picks the compiled program from
the cache, no rule is read unless it changed), the participant with its enrolment in one joined
read, then each owner's balances, tags, counters, attributes, tiers and holds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.model.state import (
    BudgetState,
    EntityState,
    EvaluationInput,
    EventInput,
    GroupState,
    ProgramState,
)
from engine.model.tier_lifecycle import rolls_over
from engine.rules.program import CompiledProgram, compile_program
from engine.store import groups, statements
from engine.store.budgets import effective_consumed
from engine.store.catalog import program_bundle
from engine.store.db import database_proxy, is_postgres
from engine.store.errors import Conflict, NotFound
from engine.store.event_participants import is_program_event, resolve_event_participants
from engine.store.ledger.deferred import due_deferred, matured_view
from engine.store.ledger.lots import open_lots
from engine.store.models import (
    GROUP,
    PARTICIPANT,
    PROGRAM,
    EventRecord,
    Participant,
    Program,
    RuleBudget,
)
from engine.store.owner_reads import OwnerState, read_owner
from engine.store.shared_reads import remembered
from engine.store.tier_sweeps import review_due_levels

COMPILED_CACHE_SIZE = 128


@dataclass
class EventContext:
    """A stored event ready to evaluate: its row (participant ids filled in), its compiled
    program, the evaluator's input, and the participants processing it created (D17)."""

    record: EventRecord
    program: CompiledProgram
    inputs: EvaluationInput
    created: list[Participant] = field(default_factory=list)
    tier_moves: list[Any] = field(default_factory=list)  # levels reviewed before the event (A139)
    shadow_id: str | None = None  # the program's ACTIVE shadow ruleset, evaluated after commit (A232)


class _CompiledPrograms:
    """Compiled programs by (program id, rules_version): compile once, evaluate many."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[tuple[str, int], CompiledProgram] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, program: Program) -> CompiledProgram:
        key = (program.id, program.rules_version)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        bundle, rule_ids = program_bundle(program)
        compiled = compile_program(bundle, rule_ids=rule_ids)
        with self._lock:
            self._items[key] = compiled
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return compiled


compiled_programs = _CompiledPrograms(COMPILED_CACHE_SIZE)


def load_event_context(event: EventRecord | str, *, persist_participants: bool = True) -> EventContext:
    """Load the event (given as its row, or read by id), its program (compiled, cached) and the
    state its rules see. `persist_participants=False`: the participant ids resolved from external
    ids are left on the returned record for `post_event_effects` to write with the outcome.

    Raises `NotFound` (no such event; `unknown_participant` under a REJECT policy) or `Conflict`
    (`program_inactive`); a program whose rules do not compile raises `ProgramCompileError`.

    >>> load_event_context(record).inputs.participant.balances["PTS"].available
    Decimal('120')
    """
    record = event if isinstance(event, EventRecord) else _event(event)
    program = _program(record.program_id)
    record, known, created = resolve_event_participants(record, program, persist=persist_participants)
    if program.status != "ACTIVE":
        raise Conflict(f"program {program.id} is {program.status}", code="program_inactive")
    compiled = compiled_programs.get(program)
    symbols = _asset_symbols(program.id)
    participant_id = record.participant_id
    lot_assets = [asset_id for asset_id, symbol in symbols.items() if _is_lot(compiled, symbol)]
    participant: EntityState | None = None
    tier_moves: list[Any] = []
    rollovers = any(rolls_over(tier) for tier in compiled.bundle.tiers)
    group_id = groups.named_group_id(program.organisation_id, record.event_data) if compiled.bundle.tiers else None
    if group_id is not None:  # the named group's due levels first: owners lock GROUP before PARTICIPANT (A242)
        tier_moves = review_due_levels(record, group_id, record.created_at, rollovers=rollovers, owner_type=GROUP)
    if participant_id is not None:
        # what the tier lifecycle had due by the receive time is applied first (A139)
        if compiled.bundle.tiers:
            tier_moves += review_due_levels(record, participant_id, record.created_at, rollovers=rollovers)
        person = known.get(participant_id) or _participant(participant_id)
        participant = _entity(person, program.id, symbols, lot_assets, record.created_at)
    elif not is_program_event(record):  # `resolve_event_participants` fills it in from the external id
        raise NotFound(f"event {record.id} names no participant", code="unknown_participant")
    recipient = None
    if record.recipient_id:
        person = known.get(record.recipient_id) or _participant(record.recipient_id)
        recipient = _entity(person, program.id, symbols, lot_assets, record.created_at)
    program_state = read_owner(PROGRAM, program.id, symbols)
    inputs = EvaluationInput(
        event=EventInput(
            event_data=record.event_data,
            event_timestamp=record.event_timestamp,
            received_at=record.created_at,
            id=record.id,
            idempotency_key=record.idempotency_key,
        ),
        participant=participant,
        recipient=recipient,
        program_state=ProgramState(
            tags=program_state.tags,
            counters=program_state.counters,
            attributes=program_state.attributes,
            wallet=program_state.balances,
        ),
        budgets=_budgets(program.id, record) if _has_budgets(compiled, "budgets") else {},
        participant_budgets=(
            _participant_budgets(program.id, participant_id, record)
            if participant_id and _has_budgets(compiled, "participant_budgets")
            else {}
        ),
        group=_group(program, record, symbols, lot_assets),
    )
    return EventContext(
        record=record,
        program=compiled,
        inputs=inputs,
        created=created,
        tier_moves=tier_moves,
        shadow_id=program.shadow_id,
    )


def _event(event_id: str) -> EventRecord:
    found = statements.fetch(EventRecord, "id = {p}", [event_id])
    if not found:
        raise NotFound(f"event {event_id} not found", resource="event", id=event_id)
    return found[0]


def _program(program_id: str) -> Program:
    return remembered(("program", program_id), lambda: statements.fetch(Program, "id = {p}", [program_id])[0])


def _participant(participant_id: str) -> Participant:
    return statements.fetch(Participant, "id = {p}", [participant_id])[0]


def _asset_symbols(program_id: str) -> dict[str, str]:
    return remembered(
        ("asset symbols", program_id),
        lambda: dict(
            statements.rows(
                "SELECT a.id, a.symbol FROM asset AS a JOIN program_asset AS pa ON pa.asset_id = a.id "
                "WHERE pa.program_id = {p}",
                [program_id],
                (str, str),
            )
        ),
    )


def _is_lot(program: CompiledProgram, symbol: str) -> bool:
    asset = program.assets.get(symbol)
    return asset is not None and asset.inventory_mode == "LOT"


def _entity(
    person: Participant, program_id: str, symbols: dict[str, str], lot_assets: list[str], as_of: datetime
) -> EntityState:
    """The participant as rules see it at the event's receive time `as_of`."""
    state = read_owner(PARTICIPANT, person.id, symbols, tiers=(program_id, as_of), holds=True)
    entity = EntityState(
        id=person.id,
        external_id=person.external_id,
        status=person.status,
        tags=state.tags,
        counters=state.counters,
        attributes=state.attributes,
        tiers=state.tiers,
    )
    _holdings(entity, PARTICIPANT, "", symbols, lot_assets, as_of, state)
    return entity


def _group(program: Program, record: EventRecord, symbols: dict[str, str], lot_assets: list[str]) -> GroupState | None:
    """The group the event names with its balances, holds and lots in the program, read as the
    participant's are (A262): the evaluation checks and moves them, storage re-checks under the
    group's lock (A242)."""
    group = groups.named_group(program.organisation_id, record.event_data, program.id, record.created_at)
    if group is not None:
        read = read_owner(GROUP, group.id, symbols, holds=True, program_scope=program.id)
        _holdings(group, GROUP, program.id, symbols, lot_assets, record.created_at, read)
    return group


def _holdings(
    owner: EntityState | GroupState,
    owner_type: str,
    program_scope: str,
    symbols: dict[str, str],
    lot_assets: list[str],
    as_of: datetime,
    read: OwnerState,
) -> None:
    """Fill in the owner's balances and holds (as `read_owner` read them) and the open lots of the
    program's assets, with SIMPLE credits due to mature counted as AVAILABLE."""
    assert owner.id is not None  # read from its row
    balances = owner.balances = read.balances
    owner.holds = read.holds
    if lot_assets:  # the evaluator settles what is due at the event's time, as storage will
        lots = open_lots(owner_type, owner.id, lot_assets, program_scope)
        owner.lots = {symbols[asset_id]: found for asset_id, found in lots.items() if found}
    for asset_id, symbol in symbols.items():  # SIMPLE credits due to mature count as AVAILABLE, as storage
        balance = balances.get(symbol)  # matures them before it spends
        if balance is not None and balance.deferred > 0 and asset_id not in lot_assets:
            due = due_deferred(owner_type, owner.id, asset_id, as_of, program_scope)
            balances[symbol] = matured_view(balance, due)


_NEXT_RESET = RuleBudget.next_reset_at.python_value


def _has_budgets(program: CompiledProgram, kind: str) -> bool:
    """Whether a rule of the program (in any status but ARCHIVED) has budgets of `kind`
    (`budgets`: per program, `participant_budgets`): a program without any reads none."""
    return any(getattr(rule, kind) for rule in (*program.rules, *program.inactive))


def _budgets(program_id: str, record: EventRecord) -> dict[tuple[str, str], BudgetState]:
    """What each rule's budget has consumed. Inside a transaction on PostgreSQL the budget rows are
    locked (in id order) until it ends, so an evaluation that reads a budget is posted before any
    other event can consume it: the budget re-check in `post_event_effects` then never refuses.
    Only the budget rows are locked, never the rules (that would serialise every event of the
    program)."""
    lock = " FOR UPDATE OF b" if is_postgres() and database_proxy.in_transaction() else ""
    found = statements.rows(
        "SELECT r.name, b.asset_symbol, b.consumed, b.next_reset_at FROM rule_budget AS b "
        "JOIN rule AS r ON r.id = b.rule_id WHERE r.program_id = {p} AND r.status <> 'ARCHIVED' "
        "AND b.per = 'program' ORDER BY b.id" + lock,
        [program_id],
        (str, str, Decimal, _NEXT_RESET),
    )
    return {
        (name, symbol): BudgetState(
            consumed=effective_consumed(
                statements.built(RuleBudget, {"consumed": consumed, "next_reset_at": next_reset_at}), record.created_at
            )
        )
        for name, symbol, consumed, next_reset_at in found
    }


def _participant_budgets(
    program_id: str, participant_id: str, record: EventRecord
) -> dict[tuple[str, str], BudgetState]:
    """What the event's participant has consumed of each `per: participant` budget in its current
    period (D37). No lock: only this participant's events touch these rows, one at a time (D15)."""
    found = statements.rows(
        "SELECT r.name, b.asset_symbol, pb.consumed, pb.next_reset_at FROM rule_budget AS b "
        "JOIN rule AS r ON r.id = b.rule_id "
        "JOIN participant_budget AS pb ON pb.budget_id = b.id AND pb.participant_id = {p} "
        "WHERE r.program_id = {p} AND r.status <> 'ARCHIVED' AND b.per = 'participant'",
        [participant_id, program_id],
        (str, str, Decimal, _NEXT_RESET),
    )
    return {
        (name, symbol): BudgetState(
            consumed=effective_consumed(
                statements.built(RuleBudget, {"consumed": consumed, "next_reset_at": next_reset_at}), record.created_at
            )
        )
        for name, symbol, consumed, next_reset_at in found
    }
