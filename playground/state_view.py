"""The participant before and after the event, field by field, in CEL's notation.

Generic over the state's fields: a field the engine adds to `EntityState` shows up here without
a template change. Balances (available, held, deferred) and the lots of LOT assets have tables of
their own (`lot_rows`) and are left out; tiers also have one (`tier_rows`), with when their
lifecycle next looks at each level.

    >>> rows = state_rows(EntityState(tags=["vip"]), EntityState(tags=["vip", "gold"]))
    >>> [(r.field, r.before, r.after, r.changed) for r in rows if r.field == "tags"]
    [('tags', '["vip"]', '["vip", "gold"]', True)]
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from dsl.notation import cel_literal
from engine.model.bundle import Bundle
from engine.model.calendar import zone
from engine.model.lifecycle import Lifecycle
from engine.model.lots import Lot
from engine.model.result import SettledLot, StateChange
from engine.model.state import EntityState, GroupState
from engine.model.tier_lifecycle import Standing, schedule

_OWN_TABLE = frozenset({"balances", "lots"})
_IDENTITY = frozenset({"id", "external_id"})  # shown only when set


class StateRow(msgspec.Struct, frozen=True, kw_only=True):
    field: str
    before: str
    after: str
    changed: bool


def state_rows(before: EntityState | GroupState, after: EntityState | GroupState) -> list[StateRow]:
    """One row per field of the state (balances aside): a participant's or a group's."""
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


class LotRow(msgspec.Struct, frozen=True, kw_only=True):
    asset: str
    lot: str
    earned: str
    expires: str
    matures: str
    before: str  # "40 AVAILABLE", or "" for a lot the event made
    after: str  # "25 AVAILABLE", or what ended it: "expired", "matured", "spent"
    changed: bool


def lot_rows(
    before: EntityState | GroupState, after: EntityState | GroupState, settled: list[SettledLot], role: str
) -> list[LotRow]:
    """One row per lot of a LOT asset, before and after the event: lots the event's time expired,
    lots spent, lots the event made."""
    ended = {(item.asset, item.lot_id): item.kind.lower() for item in settled if item.role == role}
    rows = []
    for asset in sorted(set(before.lots) | set(after.lots)):
        old = {lot.id: lot for lot in before.lots.get(asset, [])}
        new = {lot.id: lot for lot in after.lots.get(asset, [])}
        for lot_id in [*old, *(key for key in new if key not in old)]:
            lot = new.get(lot_id) or old[lot_id]
            was = _lot_text(old.get(lot_id))
            now = _lot_text(new[lot_id]) if lot_id in new else ended.get((asset, lot_id), "spent")
            rows.append(
                LotRow(
                    asset=asset,
                    lot=lot_id,
                    earned=_moment(lot.created_at),
                    expires=_moment(lot.expires_at),
                    matures=_moment(lot.matures_at),
                    before=was,
                    after=now,
                    changed=was != now,
                )
            )
    return rows


def _lot_text(lot: Lot | None) -> str:
    if lot is None:
        return ""
    held = f" ({lot.reference_id})" if lot.reference_id else ""
    return f"{lot.remaining} {lot.status}{held}"


def _moment(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z") if value is not None else ""


class TierRow(msgspec.Struct, frozen=True, kw_only=True):
    tier: str
    before: str  # the level key, "" for none
    after: str
    next_review: str  # when the lifecycle next looks at the level after the event, "" for never
    reason: str  # what is due then: expiry, period end, inactivity
    changed: bool


def tier_rows(
    bundle: Bundle, before: EntityState, after: EntityState, changes: list[StateChange], at: datetime
) -> list[TierRow]:
    """Each tier the participant holds a level of, before and after the event, with when its
    lifecycle next looks at the level the event left (the schedule the worker would store, A132)."""
    try:
        tz = zone(bundle.program.timezone)
    except ValueError:
        tz = zone("UTC")
    expiries = {c.key: c.expires_at for c in changes if c.state_type == "tier" and c.target.role == "participant"}
    rows = []
    for tier in bundle.tiers:
        old, new = before.tiers.get(tier.key), after.tiers.get(tier.key)
        if old is None and new is None:
            continue
        due, reason = None, ""
        if new is not None:
            running = tier if tier.status == "ACTIVE" else msgspec.structs.replace(tier, lifecycle=Lifecycle())
            standing = schedule(
                running, Standing(level=new.level, rank=new.rank, expires_at=expiries.get(tier.key)), at, tz
            )
            due = standing.due_at
            reason = _due_reason(standing)
        old_level, new_level = old.level if old else "", new.level if new else ""
        rows.append(
            TierRow(
                tier=tier.key,
                before=old_level,
                after=new_level,
                next_review=_moment(due),
                reason=reason,
                changed=old_level != new_level,
            )
        )
    return rows


def _due_reason(standing: Standing) -> str:
    due = standing.due_at
    if due is None:
        return ""
    if standing.expires_at == due:
        return "expiry"
    if standing.period_ends_at == due:
        return "period end"
    return "inactivity"
