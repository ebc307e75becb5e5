"""Recorded history as a backtest reads it (D36): the events a program processed, each with the
outcome that was stored for it, and the changes made to its participants by anything else (the
API, other programs, the scheduler). Storage builds these from its rows (`engine/store/history/`);
the replay (`engine/replay/`) evaluates and compares them without knowing where they came from.

    Window          a stretch of a program's recorded order
    RecordedEvent   one processed event, in the recorded order, with its stored rule evaluations
    LedgerChange    one journal entry's movement of one holder's value the replay does not make
    StateRecord     one state-history row the replay does not make (a tag, counter, attribute, tier)
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec


class RecordedRule(msgspec.Struct, kw_only=True, frozen=True):
    """One stored rule evaluation of an event's latest attempt (rules whose condition was false
    are not stored, D31)."""

    rule: str
    status: str  # the engine's status: MATCHED, SKIPPED_ERROR, OUTSIDE_TIME_WINDOW, ...
    error_code: str | None = None
    rule_version: int | None = None
    actions: list[dict[str, Any]] = msgspec.field(default_factory=list)


class RecordedEvent(msgspec.Struct, kw_only=True):
    """A processed event as it was recorded: what the rules saw (`event_data`, `now` is
    `event_timestamp`, time windows use `received_at`, D16), who it was for, when it was processed
    (its place in the recorded order) and what was stored as its outcome."""

    id: str
    participant_id: str
    event_data: dict[str, Any]
    event_timestamp: datetime
    received_at: datetime
    processed_at: datetime
    status: str  # COMPLETED | FAILED
    recipient_id: str | None = None
    error_code: str | None = None
    rules: list[RecordedRule] = msgspec.field(default_factory=list)

    @property
    def at(self) -> datetime:
        """Where the event stands in the recorded order: when it finished processing."""
        return self.processed_at


class LotSpec(msgspec.Struct, kw_only=True, frozen=True):
    """The lot a CREDIT of a LOT asset made: what spending order and expiry read."""

    id: str
    created_at: datetime
    expires_at: datetime | None = None
    matures_at: datetime | None = None
    reference_id: str | None = None


class LedgerChange(msgspec.Struct, kw_only=True):
    """One journal entry's movement of one holder's value (a participant, or the program's
    wallet), made by something the replay does not replay: a direct operation of the API, another
    program's event, the scheduler. `deltas` is the signed amount per bucket of this holder."""

    at: datetime
    entry_id: str
    action_type: str  # CREDIT DEBIT HOLD RELEASE FORFEIT VOID_HOLD FUND BURN EXPIRY MATURITY
    owner_type: str  # PARTICIPANT | PROGRAM
    owner_id: str
    asset: str  # symbol
    deltas: dict[str, Decimal]  # AVAILABLE / HELD / DEFERRED -> signed amount
    reference_id: str | None = None
    lot: LotSpec | None = None
    matures_at: datetime | None = None  # a DEFERRED credit of a SIMPLE asset


class StateRecord(msgspec.Struct, kw_only=True):
    """One change of a tag, counter, attribute or tier the replay does not make. A rule's counter
    change is an increment (`new - old`), an API's a value set; `event_timestamp` is the time a
    rule's counter reset or creation is stamped with (the API's is `at`)."""

    at: datetime
    owner_type: str  # PARTICIPANT | PROGRAM
    owner_id: str
    state_type: str  # tag | counter | attribute | tier
    key: str
    operation: str  # add | remove | set | delete | auto_reset
    old_value: str | None = None
    new_value: str | None = None
    from_event: bool = False
    event_timestamp: datetime | None = None


History = RecordedEvent | LedgerChange | StateRecord


class Window(msgspec.Struct, kw_only=True, frozen=True):
    """A stretch of a program's recorded order: the processed events whose (processed_at, id)
    lies between `first` and `last`, both included. An id of "" sorts before every id and "~"
    after every id, so a bound may name a moment rather than an event."""

    program_id: str
    first_at: datetime
    last_at: datetime
    first_id: str = ""
    last_id: str = "~"

    def holds(self, processed_at: datetime | None, event_id: str) -> bool:
        """Whether an event processed at `processed_at` lies in the window."""
        if processed_at is None:
            return False
        return (self.first_at, self.first_id) <= (processed_at, event_id) <= (self.last_at, self.last_id)
