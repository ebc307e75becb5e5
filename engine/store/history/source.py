"""Everything a backtest reads from storage for one program and window, gathered in one place:
the baseline as applied now, the window, each participant's start, and the recorded history as
one stream in the recorded order.

    source = open_history(program_id, organisation_id=org, start=t0, end=t1)   # or last=N
    run_backtest(source.baseline, candidate, source.history(), seed=source.starts.participant,
                 program_state=source.starts.program(), tracked=source.tracked)

Reads only: a backtest never writes (D36).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from peewee import Database

from engine.model.history import History, LedgerChange, RecordedEvent, StateRecord, Window
from engine.rules.program import CompiledProgram
from engine.store.context import compiled_programs
from engine.store.db import is_postgres
from engine.store.errors import NotFound
from engine.store.history.changes import ledger_changes, state_records
from engine.store.history.events import count_events, recorded_events, resolve_window, window_participants
from engine.store.history.starts import Starts
from engine.store.models import Asset, Program, ProgramAsset


@dataclass
class HistorySource:
    program: Program
    baseline: CompiledProgram
    window: Window
    total: int  # events in the window
    tracked: set[str]  # participants the window's events involve
    starts: Starts
    asset_ids: set[str]

    def history(self) -> Iterator[History]:
        """The window's events and the changes around them, in the recorded order (read page by
        page: memory holds a page of each, whatever the window's length)."""
        events: Iterator[RecordedEvent] = recorded_events(self.window)
        ledger: Iterator[LedgerChange] = ledger_changes(self.window, self.program.organisation_id, self.asset_ids)
        state: Iterator[StateRecord] = state_records(self.window, self.program.organisation_id)
        return _merged(events, ledger, state)


def _merged(*streams: Iterator[History]) -> Iterator[History]:
    """The streams woven by time; at one moment a change goes before an event (it was written
    before the event finished: an event's place is when it finished processing)."""
    keyed = [((item.at, rank, index, item) for index, item in enumerate(stream)) for rank, stream in enumerate(streams)]
    for *_, item in heapq.merge(*keyed, key=lambda row: (row[0], -row[1], row[2])):
        yield item


def snapshot(db: Database) -> None:
    """Make the caller's new transaction one read-only snapshot: every read of a backtest sees the
    same history (SQLite's deferred transaction reads one snapshot of the WAL from its first read;
    PostgreSQL needs REPEATABLE READ, asked for before the first statement)."""
    if is_postgres():
        db.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")


def open_history(
    program_id: str,
    *,
    organisation_id: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    last: int | None = None,
) -> HistorySource:
    """The history of `program_id` (of `organisation_id` when given) over the window asked for.
    Raises `NotFound` (`program_not_found`, `empty_window`)."""
    query = Program.select().where(Program.id == program_id)
    if organisation_id is not None:
        query = query.where(Program.organisation == organisation_id)
    program = query.first()
    if program is None:
        raise NotFound(f"program {program_id} not found", code="program_not_found")
    window = resolve_window(program.id, start=start, end=end, last=last)
    assets = list(
        Asset.select(Asset.id, Asset.symbol, Asset.inventory_mode)
        .join(ProgramAsset, on=(ProgramAsset.asset == Asset.id))
        .where(ProgramAsset.program == program.id)
    )
    symbols = {asset.id: asset.symbol for asset in assets}
    lot_assets = {asset.id for asset in assets if asset.inventory_mode == "LOT"}
    tracked = window_participants(window)
    return HistorySource(
        program=program,
        baseline=compiled_programs.get(program),
        window=window,
        total=count_events(window),
        tracked=tracked,
        starts=Starts(window, program.organisation_id, symbols, lot_assets, tracked),
        asset_ids=set(symbols),
    )
