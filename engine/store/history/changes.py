"""What changed a window's participants (and its program) besides the window's own events: direct
operations of the API, events of other programs, the scheduler's settlements, state edits. A
replay weaves these into the recorded order, so the baseline replays what really happened around
its events (D36).

    for change in ledger_changes(window, organisation_id, asset_ids):   # LedgerChange, by time
    for record in state_records(window, organisation_id):               # StateRecord, by time

Both read their table by primary key: ids are UUIDv7, ordered by creation time (the millisecond
bounds are widened by one on each side, then the rows are filtered by their exact times), and
rows written by the window's own events are left out (the replay makes those itself) by the
statement, so a replay does not read back, row by row, the effects of every event it replays.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

from engine.model.history import LedgerChange, LotSpec, StateRecord, Window
from engine.store import statements
from engine.store.fields import to_decimal
from engine.store.models import EventRecord
from engine.store.rule_health import id_floor

PAGE = 1000
_AT = EventRecord.processed_at.python_value
_STAMP = EventRecord.processed_at.db_value
_MILLISECOND = timedelta(milliseconds=1)


def _id_range(window: Window) -> tuple[str, str]:
    return id_floor(window.first_at - _MILLISECOND), id_floor(window.last_at + 2 * _MILLISECOND)


def _replayed(window: Window, program_id: str | None, processed_at: datetime | None, event_id: str | None) -> bool:
    """Whether a row was written by one of the window's events (the replay makes its effects)."""
    return event_id is not None and program_id == window.program_id and window.holds(processed_at, event_id)


def _in_time(window: Window, at: datetime) -> bool:
    return window.first_at <= at <= window.last_at


# The SQL of `_replayed`, negated: a row of no event, of an event of another program, or of one
# processed outside the window (or not yet). Its parameters are `_outside(window)`.
_NOT_REPLAYED = (
    "(ev.id IS NULL OR ev.program_id <> {p} OR ev.processed_at IS NULL "
    "OR ev.processed_at < {p} OR (ev.processed_at = {p} AND ev.id < {p}) "
    "OR ev.processed_at > {p} OR (ev.processed_at = {p} AND ev.id > {p}))"
)


def _outside(window: Window) -> list[object]:
    first, last = _STAMP(window.first_at), _STAMP(window.last_at)
    return [window.program_id, first, first, window.first_id, last, last, window.last_id]


# COALESCE keeps SQLite's planner on the window's id range (the postings by entry, in order): on
# the entity type's (or the organisation's) index it read and sorted every posting of the kind.
_LEDGER = (
    "SELECT e.id, e.created_at, e.action_type, e.reference_id, e.event_id, ev.program_id, ev.processed_at, "
    "p.entity_type, p.entity_id, p.asset_id, p.asset_symbol, p.bucket, p.amount "
    "FROM journal_entry AS e JOIN posting AS p ON p.entry_id = e.id LEFT JOIN event AS ev ON ev.id = e.event_id "
    "WHERE e.id > {p} AND e.id < {p} AND COALESCE(e.organisation_id, '') = {p} "
    "AND (COALESCE(p.entity_type, '') = 'PARTICIPANT' OR (p.entity_type = 'PROGRAM' AND p.entity_id = {p})) "
    f"AND {_NOT_REPLAYED} ORDER BY p.entry_id, p.position LIMIT {{p}}"
)
_LEDGER_TYPES = (str, _AT, str, str, str, str, _AT, str, str, str, str, str, to_decimal)


def ledger_changes(window: Window, organisation_id: str, asset_ids: set[str]) -> Iterator[LedgerChange]:
    """Each entry's movement of each participant's (and the program wallet's) value, for the
    program's assets, in the window's time and not made by its events, in the order written."""
    low, high = _id_range(window)
    cursor = low
    while True:
        params = [cursor, high, organisation_id, window.program_id, *_outside(window), PAGE]
        found = statements.rows(_LEDGER, params, _LEDGER_TYPES)
        if not found:
            return
        # A page ends on an entry boundary: the last entry's rows are read again with the next page.
        complete = found if len(found) < PAGE else [row for row in found if row[0] != found[-1][0]]
        if not complete:  # one entry with more postings than a page: take it whole
            complete = found
        changes = _changes(window, complete, asset_ids)
        yield from _with_lots(changes)
        if len(found) < PAGE:
            return
        cursor = complete[-1][0]


def _changes(window: Window, rows: list[tuple], asset_ids: set[str]) -> list[LedgerChange]:
    by_key: dict[tuple[str, str, str, str], LedgerChange] = {}
    for entry_id, at, action, reference, event_id, program, processed, owner_type, owner_id, asset_id, symbol, bucket, amount in rows:  # fmt: skip  # noqa: E501
        if asset_id not in asset_ids or not _in_time(window, at) or _replayed(window, program, processed, event_id):
            continue
        key = (entry_id, owner_type, owner_id, asset_id)
        change = by_key.get(key)
        if change is None:
            change = by_key[key] = LedgerChange(
                at=at,
                entry_id=entry_id,
                action_type=action,
                owner_type=owner_type,
                owner_id=owner_id,
                asset=symbol,
                deltas={},
                reference_id=reference,
            )
        change.deltas[bucket] = change.deltas.get(bucket, Decimal(0)) + amount
    return list(by_key.values())


def _with_lots(changes: list[LedgerChange]) -> list[LedgerChange]:
    """Credits with what they made: the lot of a LOT asset, or the maturity of a SIMPLE deferred
    credit (two reads per page, only when the page has credits)."""
    credits = {c.entry_id for c in changes if c.action_type == "CREDIT" and c.owner_type == "PARTICIPANT"}
    if not credits:
        return changes
    marks, ids = statements.marks(len(credits)), sorted(credits)
    lots = {
        (entry_id, entity_id): LotSpec(
            id=lot_id, created_at=created, expires_at=expires, matures_at=matures, reference_id=reference
        )
        for lot_id, entry_id, entity_id, created, expires, matures, reference in statements.rows(
            "SELECT id, credit_entry_id, entity_id, created_at, expires_at, matures_at, reference_id FROM lot "
            f"WHERE credit_entry_id IN ({marks}) AND source_lot_id IS NULL",
            ids,
            (str, str, str, _AT, _AT, _AT, str),
        )
    }
    matures = dict(
        statements.rows(
            f"SELECT credit_entry_id, matures_at FROM deferred_credit WHERE credit_entry_id IN ({marks})",
            ids,
            (str, _AT),
        )
    )
    for change in changes:
        if change.entry_id in credits:
            change.lot = lots.get((change.entry_id, change.owner_id))
            change.matures_at = matures.get(change.entry_id)
    return changes


# COALESCE as in `_LEDGER`: the window's id range, not every participant's state history.
_STATE = (
    "SELECT h.id, h.changed_at, h.owner_type, h.owner_id, h.state_type, h.key, h.operation, h.old_value, "
    "h.new_value, h.program_id, h.event_id, ev.program_id, ev.processed_at, ev.event_timestamp "
    "FROM state_history AS h LEFT JOIN event AS ev ON ev.id = h.event_id "
    "WHERE h.id > {p} AND h.id < {p} AND COALESCE(h.organisation_id, '') = {p} "
    "AND (COALESCE(h.owner_type, '') = 'PARTICIPANT' OR (h.owner_type = 'PROGRAM' AND h.owner_id = {p})) "
    f"AND {_NOT_REPLAYED} ORDER BY h.id LIMIT {{p}}"
)
_STATE_TYPES = (str, _AT, str, str, str, str, str, str, str, str, str, str, _AT, _AT)


def state_records(window: Window, organisation_id: str) -> Iterator[StateRecord]:
    """Each change of a participant's (or the program's) tags, counters, attributes and this
    program's tiers, in the window's time and not made by its events, in the order written."""
    low, high = _id_range(window)
    cursor = low
    while True:
        params = [cursor, high, organisation_id, window.program_id, *_outside(window), PAGE]
        found = statements.rows(_STATE, params, _STATE_TYPES)
        for row in found:
            record = _record(window, row)
            if record is not None:
                yield record
        if len(found) < PAGE:
            return
        cursor = found[-1][0]


def _record(window: Window, row: tuple) -> StateRecord | None:
    _, at, owner_type, owner_id, state_type, key, operation, old, new, tier_program, event_id, program, processed, stamp = row  # fmt: skip  # noqa: E501
    if not _in_time(window, at) or _replayed(window, program, processed, event_id):
        return None
    if state_type == "tier" and tier_program != window.program_id:
        return None  # another program's tiers
    return StateRecord(
        at=at,
        owner_type=owner_type,
        owner_id=owner_id,
        state_type=state_type,
        key=key,
        operation=operation,
        old_value=old,
        new_value=new,
        from_event=event_id is not None,
        event_timestamp=stamp if event_id is not None else at,
    )
