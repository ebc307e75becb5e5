"""A program's processed events in their recorded order, for replay (D36): a window of them
resolved from times or a count, counted, and read page by page with the rule evaluations stored
for each event's latest attempt.

    window = resolve_window(program_id, start=t0, end=t1)          # or last=5000
    for event in recorded_events(window):                          # RecordedEvent, in order
        ...

The recorded order is the order events finished processing: `(processed_at, id)`, read through
the index of schema step 45, so a page costs its own rows whatever the history's length.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from engine.model.history import RecordedEvent, RecordedRule, Window
from engine.store import statements
from engine.store.db import utcnow
from engine.store.errors import NotFound
from engine.store.models import EventRecord

PAGE = 500  # events per read; their evaluations are read in one statement per page
FINISHED = "status IN ('COMPLETED', 'FAILED')"
_AT = EventRecord.processed_at.python_value
_STAMP = EventRecord.processed_at.db_value
_MICROSECOND = timedelta(microseconds=1)
_NEVER = datetime(9999, 1, 1, tzinfo=UTC)  # a bound no processing time reaches


class WindowError(NotFound):
    """The window names no events (`empty_window`)."""


def resolve_window(
    program_id: str, *, start: datetime | None = None, end: datetime | None = None, last: int | None = None
) -> Window:
    """The window of events processed in [start, end) (end: now), or of the `last` events
    processed before `end`. Raises `WindowError` when it holds no event."""
    if last is not None:
        newest = _keys(program_id, "DESC", last, before=end)
        if not newest:
            raise WindowError(f"program {program_id} has no processed events", code="empty_window")
        (last_at, last_id), (first_at, first_id) = newest[0], newest[-1]
        return Window(program_id=program_id, first_at=first_at, first_id=first_id, last_at=last_at, last_id=last_id)
    upper = (end or utcnow()) - _MICROSECOND  # timestamps are microseconds: `< end` is `<= end - 1 µs`
    if start is None:  # from the first processed event
        oldest = _keys(program_id, "ASC", 1)
        start = oldest[0][0] if oldest else upper
    lower = start
    window = Window(program_id=program_id, first_at=lower, last_at=upper)
    if count_events(window) == 0:
        raise WindowError(
            f"program {program_id} processed no events between {lower.isoformat()} and {upper.isoformat()}",
            code="empty_window",
        )
    return window


def _keys(program_id: str, direction: str, count: int, *, before: datetime | None = None) -> list[tuple[datetime, str]]:
    """The (processed_at, id) of the first `count` events processed (before `before`, when
    given) in `direction`, in that order."""
    found = statements.rows(
        f"SELECT processed_at, id FROM event WHERE program_id = {{p}} AND processed_at IS NOT NULL AND {FINISHED} "
        "AND processed_at < {p} "
        f"ORDER BY processed_at {direction}, id {direction} LIMIT {{p}}",
        [program_id, _STAMP(before or _NEVER), count],
        (_AT, str),
    )
    return [(at, event_id) for at, event_id in found]


def count_events(window: Window) -> int:
    """How many events the window holds (what a progress bar counts to)."""
    found = statements.rows(
        f"SELECT COUNT(*) FROM event WHERE program_id = {{p}} AND {FINISHED} "
        "AND (processed_at > {p} OR (processed_at = {p} AND id >= {p})) "
        "AND (processed_at < {p} OR (processed_at = {p} AND id <= {p}))",
        _bounds(window),
        (int,),
    )
    return found[0][0]


def _bounds(window: Window, after: tuple[datetime, str] | None = None) -> list[Any]:
    first_at, first_id = after or (window.first_at, window.first_id)
    first, last = _STAMP(first_at), _STAMP(window.last_at)
    return [window.program_id, first, first, first_id, last, last, window.last_id]


_COLUMNS = "id, participant_id, recipient_id, event_data, event_timestamp, created_at, processed_at, status, error_code"
_DECODE = EventRecord.event_data.python_value
_ACTIONS = msgspec.json.Decoder(list[dict[str, Any]])  # a stored evaluation's actions, decoded once


def _time(value: Any) -> datetime:
    """A time column of a finished event, which is never NULL."""
    moment = _AT(value)
    if moment is None:
        raise ValueError("a finished event without its times")
    return moment


def _event_data(text: str | None) -> dict[str, Any]:
    data = _DECODE(text)
    return data if isinstance(data, dict) else {}


def recorded_events(window: Window, *, page: int = PAGE) -> Iterator[RecordedEvent]:
    """The window's events in the recorded order, each with its latest attempt's evaluations."""
    after: tuple[datetime, str] | None = None
    while True:
        # `after` excludes the last event read: a strict bound on the same (processed_at, id)
        strict = ">" if after is not None else ">="
        found = statements.raw_rows(
            f"SELECT {_COLUMNS} FROM event WHERE program_id = {{p}} AND {FINISHED} "
            # each bound a range on `processed_at` first: the index is walked in its order from the
            # page's start (an OR of two ranges is read whole and sorted, for every page)
            f"AND processed_at >= {{p}} AND (processed_at > {{p}} OR id {strict} {{p}}) "
            "AND processed_at <= {p} AND (processed_at < {p} OR id <= {p}) "
            "ORDER BY processed_at, id LIMIT {p}",
            [*_bounds(window, after), page],
        )
        if not found:
            return
        rules = _evaluations([row[0] for row in found])
        # raw rows: the text columns are used as read, only times and the data are converted
        for event_id, participant, recipient, data, timestamp, received, processed, status, code in found:
            yield RecordedEvent(
                id=event_id,
                participant_id=participant or "",
                recipient_id=recipient,
                event_data=_event_data(data),
                event_timestamp=_time(timestamp),
                received_at=_time(received),
                processed_at=_time(processed),
                status=status,
                error_code=code,
                rules=rules.get(event_id, []),
            )
        if len(found) < page:
            return
        after = (_time(found[-1][6]), found[-1][0])


def _evaluations(event_ids: list[str]) -> dict[str, list[RecordedRule]]:
    """The stored evaluations of each event's latest attempt (a retried event keeps those of every
    attempt), in the order they were written."""
    found = statements.raw_rows(
        "SELECT event_id, attempt, rule_name, engine_status, error_code, rule_version, actions "
        f"FROM rule_evaluation WHERE event_id IN ({statements.marks(len(event_ids))}) ORDER BY event_id, id",
        event_ids,
    )
    latest: dict[str, int] = {}
    for event_id, attempt, *_ in found:
        latest[event_id] = max(attempt, latest.get(event_id, attempt))
    by_event: dict[str, list[RecordedRule]] = {}
    for event_id, attempt, name, status, code, version, actions in found:
        if attempt != latest[event_id]:
            continue
        by_event.setdefault(event_id, []).append(
            RecordedRule(
                rule=name,
                status=status,
                error_code=code,
                rule_version=version,
                actions=_ACTIONS.decode(actions) if actions else [],
            )
        )
    return by_event


def window_participants(window: Window) -> set[str]:
    """The participants (and recipients) of the window's events: whose starts a replay needs and
    whose recorded changes it applies."""
    found = statements.rows(
        f"SELECT DISTINCT participant_id, recipient_id FROM event WHERE program_id = {{p}} AND {FINISHED} "
        "AND (processed_at > {p} OR (processed_at = {p} AND id >= {p})) "
        "AND (processed_at < {p} OR (processed_at = {p} AND id <= {p}))",
        _bounds(window),
        (str, str),
    )
    return {person for row in found for person in row if person}
