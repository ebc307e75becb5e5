"""The participant before and after the event, field by field, in CEL's notation.

Generic over the state's fields: a field the engine adds to `EntityState` shows up here without
a template change. Balances have their own table (available, held, deferred) and are left out.

    >>> rows = state_rows(EntityState(tags=["vip"]), EntityState(tags=["vip", "gold"]))
    >>> [(r.field, r.before, r.after, r.changed) for r in rows if r.field == "tags"]
    [('tags', '["vip"]', '["vip", "gold"]', True)]
"""

from __future__ import annotations

from typing import Any

import msgspec

from dsl.notation import cel_literal
from engine.model.state import EntityState

_OWN_TABLE = frozenset({"balances"})
_IDENTITY = frozenset({"id", "external_id"})  # shown only when set


class StateRow(msgspec.Struct, frozen=True, kw_only=True):
    field: str
    before: str
    after: str
    changed: bool


def state_rows(before: EntityState, after: EntityState) -> list[StateRow]:
    """One row per field of the state (balances aside)."""
    rows = []
    for name in type(after).__struct_fields__:
        if name in _OWN_TABLE:
            continue
        old, new = _plain(getattr(before, name)), _plain(getattr(after, name))
        if name in _IDENTITY and old is None and new is None:
            continue
        if name == "holds" and not old and not new:
            continue
        rows.append(StateRow(field=name, before=cel_literal(old), after=cel_literal(new), changed=old != new))
    return rows


def _plain(value: Any) -> Any:
    """Structs as maps of their set fields; a counter or tier with nothing else set as its value."""
    if isinstance(value, msgspec.Struct):
        fields = {name: _plain(getattr(value, name)) for name in value.__struct_fields__}
        fields = {name: item for name, item in fields.items() if item is not None}
        if set(fields) == {"value"}:
            return fields["value"]
        return fields
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
