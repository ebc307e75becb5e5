"""The program activity report (Scrip's fields, A188): per program, its events, journal entries,
issued and redeemed value over a window, its members, and how much it holds (rules, tiers,
assets).

Events and journal entries are counted by id range (UUIDv7 ids follow creation time: the primary
key and the journal's (organisation, program, id) index), so a bounded window costs the window;
issued and redeemed come from the ledger's flows (`engine/store/reports/ledger.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.store.db import database_proxy
from engine.store.models import Program
from engine.store.reports.flows import Flows
from engine.store.reports.ledger import Scope, flows_in
from engine.store.reports.rollup import id_floor, id_time

ZERO = Decimal(0)


@dataclass(frozen=True)
class ProgramActivity:
    program: Program
    event_count: int
    journal_count: int
    unique_participants: int
    last_activity_at: datetime | None
    flows: dict[str, Flows]  # per asset, over the window
    asset_count: int
    rule_count: int
    tier_count: int

    @property
    def total_issued(self) -> Decimal:
        return sum((flows.issued for flows in self.flows.values()), ZERO)

    @property
    def total_redeemed(self) -> Decimal:
        return sum((flows.redeemed for flows in self.flows.values()), ZERO)


def _window(column: str, start: datetime | None, end: datetime | None) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if start is not None:
        clauses.append(f"{column} >= {{p}}")
        params.append(id_floor(start))
    if end is not None:
        clauses.append(f"{column} < {{p}}")
        params.append(id_floor(end))
    return "".join(f" AND {clause}" for clause in clauses), params


def _rows(sql: str, params: list[object]) -> list[tuple]:
    return database_proxy.obj.execute_sql(sql.format(p=database_proxy.obj.param), params).fetchall()


Window = datetime | None


def event_figures(organisation_id: str, start: Window, end: Window) -> dict[str, tuple[int, int, str]]:
    """Per program: events in the window, distinct participants among them, the newest event id."""
    where, params = _window("id", start, end)
    rows = _rows(
        "SELECT program_id, COUNT(*), COUNT(DISTINCT participant_id), MAX(id) FROM event "
        f"WHERE organisation_id = {{p}}{where} GROUP BY program_id",
        [organisation_id, *params],
    )
    return {row[0]: (int(row[1]), int(row[2]), row[3]) for row in rows}


def journal_figures(organisation_id: str, start: datetime | None, end: datetime | None) -> dict[str, tuple[int, str]]:
    """Per program: journal entries in the window and the newest entry id."""
    where, params = _window("id", start, end)
    rows = _rows(
        "SELECT program_id, COUNT(*), MAX(id) FROM journal_entry "
        f"WHERE organisation_id = {{p}} AND program_id IS NOT NULL{where} GROUP BY program_id",
        [organisation_id, *params],
    )
    return {row[0]: (int(row[1]), row[2]) for row in rows}


def _counts(sql: str, program_ids: list[str]) -> dict[str, int]:
    if not program_ids:
        return {}
    marks = ", ".join(["{p}"] * len(program_ids))
    return {row[0]: int(row[1]) for row in _rows(sql.format(ids=marks, p="{p}"), list(program_ids))}


def program_activity(
    organisation_id: str,
    programs: list[Program],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    since: datetime | None = None,
) -> list[ProgramActivity]:
    """Activity of `programs` over [start, end) (all time when both are None); programs without an
    event or entry in the window are left out, and with `since`, those without one since then."""
    events = event_figures(organisation_id, start, end)
    entries = journal_figures(organisation_id, start, end)
    recent = _active_since(organisation_id, since) if since is not None else None
    ids = [p.id for p in programs if (p.id in events or p.id in entries) and (recent is None or p.id in recent)]
    assets = _counts(
        "SELECT program_id, COUNT(*) FROM program_asset WHERE program_id IN ({ids}) GROUP BY program_id", ids
    )
    rules = _counts(
        "SELECT program_id, COUNT(*) FROM rule WHERE status = 'ACTIVE' AND program_id IN ({ids}) GROUP BY program_id",
        ids,
    )
    tiers = _counts(
        "SELECT program_id, COUNT(*) FROM tier_type WHERE status = 'ACTIVE' AND program_id IN ({ids}) "
        "GROUP BY program_id",
        ids,
    )
    result = []
    for program in (p for p in programs if p.id in ids):
        event_count, participants, last_event = events.get(program.id, (0, 0, None))
        journal_count, last_entry = entries.get(program.id, (0, None))
        newest = max(filter(None, (last_event, last_entry)))
        (flows,) = flows_in(Scope(organisation_id, program.id), [start, end])
        result.append(
            ProgramActivity(
                program=program,
                event_count=event_count,
                journal_count=journal_count,
                unique_participants=participants,
                last_activity_at=id_time(newest),
                flows=flows,
                asset_count=assets.get(program.id, 0),
                rule_count=rules.get(program.id, 0),
                tier_count=tiers.get(program.id, 0),
            )
        )
    return result


def _active_since(organisation_id: str, since: datetime) -> set[str]:
    return set(event_figures(organisation_id, since, None)) | set(journal_figures(organisation_id, since, None))
