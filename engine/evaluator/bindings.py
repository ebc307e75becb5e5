"""The CEL variables a rule sees (D6, D7), built from the event and the engine's state.

    >>> event_binding({"type": "purchase", "amount": 120, "items": [{"qty": 2}]})
    {'type': 'purchase', 'amount': 120.0, 'items': [{'qty': 2.0}]}

* `event`: the event_data, with every JSON number a CEL double (ints become floats, recursively,
  also when a YAML test case wrote them as ints). A tz-aware datetime (YAML timestamps) stays a
  CEL timestamp, a naive one is taken as UTC, a date becomes its ISO text.
* `participant` / `recipient`: `{tags, counters, attributes, tiers, status, external_id, id}`;
  counters are doubles of their effective value (0 once `reset_after` has elapsed), tiers are
  `{key: {level, rank}}` with an int rank. `recipient` is null when the event has none.
* `program`: `{tags, counters, attributes}`.
* `group`: `{id, name, status, tags, counters, attributes, balances}`, null when the event names
  no group; `balances` maps each asset symbol to `{available, held, deferred}` doubles (empty when
  the caller does not know them).
* `now`: the event_timestamp.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from engine.errors import EngineError
from engine.model.state import Balance, CounterState, EntityState, GroupState, ProgramState, counter_reset_due


class EventDataError(EngineError):
    code = "invalid_event_data"


def event_binding(data: Any) -> Any:
    """event_data as CEL values: JSON numbers as doubles, everything else as it is."""
    kind = type(data)
    if kind is dict:
        out = {}
        for key, value in data.items():
            if type(key) is not str:
                raise EventDataError(f"event_data keys must be strings, got {key!r}")
            out[key] = event_binding(value)
        return out
    if kind is list or kind is tuple:
        return [event_binding(item) for item in data]
    if kind is str or kind is bool or data is None or kind is float:
        return data
    if kind is int or kind is Decimal:
        try:
            return float(data)
        except OverflowError:  # a number beyond the double range (JSON allows any number of digits)
            raise EventDataError(f"event_data holds a number out of the double range: {str(data)[:40]}...") from None
    if isinstance(data, datetime):
        return data if data.tzinfo is not None else data.replace(tzinfo=UTC)
    if isinstance(data, date):
        return data.isoformat()
    raise EventDataError(f"event_data holds a value of unsupported type {kind.__name__}")


def event_data_binding(data: Any) -> dict[str, Any]:
    """The `event` variable: event_data must be a JSON object (a map)."""
    if type(data) is not dict:
        raise EventDataError(f"event_data must be an object, got {type(data).__name__}")
    return event_binding(data)


def is_counter_expired(counter: CounterState, now: datetime) -> bool:
    """True when the counter's `reset_after` has elapsed since `last_reset_at` (lazy reset)."""
    return counter_reset_due(counter.reset_after, counter.last_reset_at, now)


def counters_binding(counters: dict[str, CounterState], now: datetime) -> dict[str, float]:
    return {key: 0.0 if is_counter_expired(counter, now) else float(counter.value) for key, counter in counters.items()}


def entity_binding(state: EntityState | None, now: datetime) -> dict[str, Any] | None:
    """`participant` / `recipient` as CEL sees them; None (CEL null) for no entity."""
    if state is None:
        return None
    return {
        "id": state.id,
        "external_id": state.external_id,
        "status": state.status,
        "tags": list(state.tags),
        "counters": counters_binding(state.counters, now),
        "attributes": dict(state.attributes),
        "tiers": {key: {"level": tier.level, "rank": tier.rank} for key, tier in state.tiers.items()},
    }


def group_binding(state: GroupState | None, now: datetime) -> dict[str, Any] | None:
    """`group` as CEL sees it; None (CEL null) when the event names no group."""
    if state is None:
        return None
    return {
        "id": state.id,
        "name": state.name,
        "status": state.status,
        "tags": list(state.tags),
        "counters": counters_binding(state.counters, now),
        "attributes": dict(state.attributes),
        "balances": balances_binding(state.balances or {}),
        "tiers": {key: {"level": tier.level, "rank": tier.rank} for key, tier in state.tiers.items()},
    }


def balances_binding(balances: dict[str, Balance]) -> dict[str, dict[str, float]]:
    """Balances by asset symbol as CEL doubles: `group.balances.FAM.available`."""
    return {
        symbol: {"available": float(b.available), "held": float(b.held), "deferred": float(b.deferred)}
        for symbol, b in balances.items()
    }


def program_binding(state: ProgramState, now: datetime) -> dict[str, Any]:
    return {
        "tags": list(state.tags),
        "counters": counters_binding(state.counters, now),
        "attributes": dict(state.attributes),
    }
