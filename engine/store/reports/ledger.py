"""Members' flows over periods, read from the rollup and the journal: the ledger summary and the
daily liability roll-forward (A185-A188).

    flows_in(scope, [None, start, end, None])   # before, during and after [start, end)
    -> [{asset_id: Flows}, {asset_id: Flows}, {asset_id: Flows}]

`flows_in` splits time at the boundaries given and answers each interval exactly: whole hours
from the rollup, and from the journal the hours a boundary cuts (a day in a zone of half an hour)
and the entries past the rollup's watermark. Every entry lands in exactly one interval, so the
closing balance of one interval is the opening balance of the next by construction, and the
intervals' nets add up to the members' balances.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import cast

from engine.store.models import LedgerRollup
from engine.store.reports.flows import EntryDelta, Flows
from engine.store.reports.rollup import HOUR, hour_of, id_floor, id_time, member_deltas, watermark

Boundary = datetime | None  # None: the beginning (first) or the end (last) of time
Moment = tuple[datetime, str, str, Decimal]  # when, asset, category, delta


@dataclass(frozen=True)
class Scope:
    organisation_id: str
    program_id: str | None = None  # None: every program of the organisation


def flows_in(scope: Scope, boundaries: Sequence[Boundary]) -> list[dict[str, Flows]]:
    """The flows of each interval [boundaries[i], boundaries[i+1]); the first boundary may be
    None (from the first entry), the last None (to the last). Boundaries must ascend."""
    cuts = [b for b in boundaries if b is not None]
    if cuts != sorted(cuts):
        raise ValueError("boundaries must ascend")
    first, last = boundaries[0], boundaries[-1]
    split_hours = {hour_of(cut) for cut in cuts if cut != hour_of(cut)}
    mark = watermark(scope.organisation_id)
    moments = _rollup_moments(scope, first, last, split_hours)
    for hour in sorted(split_hours):
        low = max(hour, first) if first is not None else hour
        high = min(hour + HOUR, last) if last is not None else hour + HOUR
        if low < high:
            moments.extend(_journal_moments(scope, low, high, "j.sequence <= {p}", [mark]))
    moments.extend(_journal_moments(scope, first, last, "j.sequence > {p}", [mark]))
    return _bucketed(moments, cuts, len(boundaries) - 1, first is None)


def _bucketed(moments: list[Moment], cuts: list[datetime], intervals: int, open_start: bool) -> list[dict[str, Flows]]:
    result: list[dict[str, Flows]] = [{} for _ in range(intervals)]
    for when, asset_id, category, delta in moments:
        index = bisect.bisect_right(cuts, when) - (0 if open_start else 1)
        if 0 <= index < intervals:
            result[index].setdefault(asset_id, Flows()).add(category, delta)
    return result


def _rollup_moments(scope: Scope, first: Boundary, last: Boundary, split_hours: set[datetime]) -> list[Moment]:
    """Whole rollup hours inside [first, last), except those a boundary cuts."""
    query = LedgerRollup.select(
        LedgerRollup.hour, LedgerRollup.asset_id, LedgerRollup.category, LedgerRollup.amount
    ).where(LedgerRollup.organisation == scope.organisation_id)
    if scope.program_id is not None:
        query = query.where(LedgerRollup.program_id == scope.program_id)
    if first is not None:
        query = query.where(LedgerRollup.hour >= hour_of(first))
    if last is not None:
        query = query.where(LedgerRollup.hour < last)
    rows = cast("list[Moment]", list(query.tuples()))  # the fields convert hour and amount
    return [row for row in rows if row[0] not in split_hours]


def _journal_moments(scope: Scope, low: Boundary, high: Boundary, where: str, params: list[object]) -> list[Moment]:
    """Entries with ids in [low, high) and the extra condition, as moments at their id's time."""
    clauses, values = [where], list(params)
    if low is not None:
        clauses.append("j.id >= {p}")
        values.append(id_floor(low))
    if high is not None:
        clauses.append("j.id < {p}")
        values.append(id_floor(high))
    deltas = member_deltas(scope.organisation_id, " AND ".join(clauses), values)
    return [_moment(delta) for delta in deltas if scope.program_id is None or delta.program_id == scope.program_id]


def _moment(delta: EntryDelta) -> Moment:
    return (id_time(delta.entry_id), delta.asset_id, delta.category, delta.delta)


def day_boundaries(first_day: datetime, days: int) -> list[datetime]:
    """`days` + 1 midnights from `first_day` (an aware midnight in the report's zone), in UTC:
    each day is its own length (23 or 25 hours across a change of clocks)."""
    zone = first_day.tzinfo
    wall = first_day.replace(tzinfo=None)
    return [(wall + timedelta(days=offset)).replace(tzinfo=zone).astimezone(UTC) for offset in range(days + 1)]
