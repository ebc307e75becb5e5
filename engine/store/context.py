"""Everything `engine.evaluate.evaluate_event` needs for one stored event.

    context = load_event_context(event_id)
    result = evaluate_event(context.program, context.event, context.participant,
                            recipient=context.recipient, program_state=context.program_state,
                            budgets=context.budgets)
    post_event_effects(event_id, result)

Loading reads without locks: `post_event_effects` re-checks whatever can have changed in between
(balances, statuses, budgets) under locks before it writes. Before loading, the event's
participants are resolved once (D11, D17): by external id, created when the program's
`on_unknown_participant` is CREATE, and enrolled in the program.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from engine.program import CompiledProgram, compile_program
from engine.state import Balance, BudgetState, EntityState, EventInput, ProgramState
from engine.store import participants as people
from engine.store import state as st
from engine.store.accounts import balances_of
from engine.store.budgets import effective_consumed
from engine.store.catalog import program_bundle
from engine.store.db import database_proxy, is_postgres, write_transaction
from engine.store.errors import Conflict, NotFound
from engine.store.models import PARTICIPANT, PROGRAM, Asset, Participant, Program, ProgramAsset
from engine.store.models_ledger import HELD, JournalEntry, Posting
from engine.store.models_rules import EventRecord, RuleBudget, RuleRecord

COMPILED_CACHE_SIZE = 128


@dataclass
class EventContext:
    record: EventRecord
    program: CompiledProgram
    event: EventInput
    participant: EntityState
    recipient: EntityState | None
    program_state: ProgramState
    budgets: dict[tuple[str, str], BudgetState]


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


def load_event_context(event_id: str) -> EventContext:
    """Load the event, its program (compiled, cached) and the state its rules see.

    Raises `NotFound` (no such event; `unknown_participant` under a REJECT policy) or `Conflict`
    (`program_inactive`); a program whose rules do not compile raises `ProgramCompileError`."""
    record = resolve_participants(event_id)
    program = Program.get_by_id(record.program_id)
    if program.status != "ACTIVE":
        raise Conflict(f"program {program.id} is {program.status}", code="program_inactive")
    compiled = compiled_programs.get(program)
    symbols = _asset_symbols(program.id)
    participant = _entity(record.participant_id, program.id, symbols)
    recipient = _entity(record.recipient_id, program.id, symbols) if record.recipient_id else None
    wallet = _by_symbol(balances_of(PROGRAM, program.id, list(symbols)), symbols)
    return EventContext(
        record=record,
        program=compiled,
        event=EventInput(event_data=record.event_data, event_timestamp=record.event_timestamp,
                         received_at=record.created_at, id=record.id, idempotency_key=record.idempotency_key),
        participant=participant,
        recipient=recipient,
        program_state=st.program_state(program.id, wallet),
        budgets=_budgets(program.id, record),
    )


def resolve_participants(event_id: str) -> EventRecord:
    """Fill the event's participant and recipient ids from their external ids (once)."""
    record = EventRecord.get_or_none(EventRecord.id == event_id)
    if record is None:
        raise NotFound(f"event {event_id} not found", resource="event", id=event_id)
    needs_participant = record.participant_id is None and record.external_id
    needs_recipient = record.recipient_id is None and record.recipient_external_id
    if not (needs_participant or needs_recipient):
        if record.participant_id is None:
            raise NotFound(f"event {event_id} names no participant", code="unknown_participant")
        return record
    with write_transaction():
        program = Program.get_by_id(record.program_id)
        changes = {}
        if needs_participant:
            changes["participant"] = _resolve(program, record.external_id).id
        if needs_recipient:
            changes["recipient"] = _resolve(program, record.recipient_external_id).id
        EventRecord.update(**changes).where(EventRecord.id == event_id).execute()
    return EventRecord.get_by_id(event_id)


def _resolve(program: Program, external_id: str) -> Participant:
    found = Participant.get_or_none((Participant.organisation == program.organisation_id)
                                    & (Participant.external_id == external_id))
    if found is None and program.on_unknown_participant == "REJECT":
        raise NotFound(f"participant {external_id!r} does not exist and the program rejects unknown participants",
                       code="unknown_participant", external_id=external_id)
    if found is None:
        found, _ = people.upsert_participant(program.organisation_id, external_id, program_id=program.id)
    else:
        people.enrol(found.id, program.id)
    return found


def _asset_symbols(program_id: str) -> dict[str, str]:
    query = (Asset.select(Asset.id, Asset.symbol).join(ProgramAsset, on=(ProgramAsset.asset == Asset.id))
             .where(ProgramAsset.program == program_id))
    return {row.id: row.symbol for row in query}


def _by_symbol(balances: dict[str, Balance], symbols: dict[str, str]) -> dict[str, Balance]:
    return {symbols[asset_id]: balance for asset_id, balance in balances.items() if asset_id in symbols}


def _entity(participant_id: str, program_id: str, symbols: dict[str, str]) -> EntityState:
    person = Participant.get_by_id(participant_id)
    balances = _by_symbol(balances_of(PARTICIPANT, person.id, list(symbols)), symbols)
    entity = st.participant_state(person, program_id, balances)
    if "holds" in EntityState.__struct_fields__:
        entity.holds = held_by_reference(person.id, symbols)
    return entity


def held_by_reference(participant_id: str, symbols: dict[str, str]) -> dict[str, dict[str, Decimal]]:
    """HELD amounts that carry a reference id, by asset symbol and reference (what RELEASE and
    VOID_HOLD with a reference can still move)."""
    query = (Posting.select(Posting.asset, Posting.amount, JournalEntry.reference_id)
             .join(JournalEntry, on=(Posting.entry == JournalEntry.id))
             .where((Posting.entity_type == PARTICIPANT) & (Posting.entity_id == participant_id)
                    & (Posting.bucket == HELD) & JournalEntry.reference_id.is_null(False)))
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in query.objects():
        if row.asset_id in symbols:
            totals[symbols[row.asset_id]][row.reference_id] += row.amount
    return {symbol: {ref: amount for ref, amount in refs.items() if amount > 0} for symbol, refs in totals.items()}


def _budgets(program_id: str, record: EventRecord) -> dict[tuple[str, str], BudgetState]:
    """What each rule's budget has consumed. Inside a transaction on PostgreSQL the budget rows are
    locked (in id order) until it ends, so an evaluation that reads a budget is posted before any
    other event can consume it: the budget re-check in `post_event_effects` then never refuses."""
    query = (RuleBudget.select(RuleBudget, RuleRecord.name).join(RuleRecord)
             .where((RuleRecord.program == program_id) & (RuleRecord.status != "ARCHIVED"))
             .order_by(RuleBudget.id))
    if is_postgres() and database_proxy.in_transaction():
        query = query.for_update(of=RuleBudget)
    return {(row.rule.name, row.asset_symbol): BudgetState(consumed=effective_consumed(row, record.created_at))
            for row in query}
