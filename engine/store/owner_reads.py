"""An owner's state as rules see it, read in one statement.

A participant's context is six small reads (tags, counters, attributes, tier levels, balances,
what is held by reference) and the program's four; each costs a round trip and a statement's
overhead, for a handful of rows. `read_owner` sends them as one `UNION ALL`: every branch fills
the columns of its own types and leaves the others NULL, so PostgreSQL types each column from
one kind of value and SQLite's values convert with the fields that wrote them. The first branch
names each column's type (PostgreSQL resolves a union's types pairwise, and two untyped NULLs
would make a text column).

    state = read_owner(PARTICIPANT, person.id, symbols, tiers=(program_id, as_of), holds=True)
    state.tags, state.counters, state.balances["PTS"].available, state.tiers, state.holds
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.model.state import Balance, CounterState, TierState
from engine.store import statements
from engine.store.ledger.accounts import AVAILABLE, DEFERRED, HELD
from engine.store.models import ParticipantTier, StateCounter

# kind, key, text, amount, moment, number
_TAGS = (
    "SELECT 't', tag, CAST(NULL AS TEXT), CAST(NULL AS NUMERIC), CAST(NULL AS TIMESTAMP), CAST(NULL AS INTEGER) "
    "FROM state_tag WHERE owner_type = {p} AND owner_id = {p}"
)
_ATTRIBUTES = (
    "SELECT 'a', \"key\", value, NULL, NULL, NULL FROM state_attribute WHERE owner_type = {p} AND owner_id = {p}"
)
_COUNTERS = (
    "SELECT 'c', \"key\", reset_after, value, last_reset_at, NULL FROM state_counter "
    "WHERE owner_type = {p} AND owner_id = {p}"
)
_BALANCES = (
    "SELECT 'b', asset_id, bucket, balance, NULL, NULL FROM account "
    "WHERE entity_type = {p} AND entity_id = {p} AND program_scope = {p}"
)
# a level past its `expires_at` has lapsed, swept or not (D33)
_TIERS = (
    "SELECT 'r', tier_key, level, NULL, NULL, \"rank\" FROM participant_tier "
    "WHERE participant_id = {p} AND program_id = {p} AND (expires_at IS NULL OR expires_at > {p})"
)
_HOLDS = (
    "SELECT 'h', a.asset_id, h.reference_id, h.amount, NULL, NULL FROM held_reference AS h "
    "JOIN account AS a ON a.id = h.account_id "
    "WHERE a.entity_type = {p} AND a.entity_id = {p} AND a.program_scope = {p} AND a.bucket = {p}"
)

_BUCKET_FIELDS = {AVAILABLE: "available", HELD: "held", DEFERRED: "deferred"}
_AMOUNT = StateCounter.value.python_value
_MOMENT = StateCounter.last_reset_at.python_value
_TIER_MOMENT = ParticipantTier.expires_at.db_value


@dataclass
class OwnerState:
    tags: list[str] = field(default_factory=list)
    counters: dict[str, CounterState] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    balances: dict[str, Balance] = field(default_factory=dict)  # by symbol, the program's assets only
    tiers: dict[str, TierState] = field(default_factory=dict)
    holds: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # symbol -> reference -> held


def read_owner(
    owner_type: str,
    owner_id: str,
    symbols: dict[str, str] | None = None,
    *,
    tiers: tuple[str, datetime] | None = None,
    holds: bool = False,
    program_scope: str = "",
) -> OwnerState:
    """The owner's tags, counters and attributes; with `symbols` (asset id -> symbol), its
    balances of those assets; with `tiers` (program id, as of), a participant's levels that have
    not lapsed by then; with `holds`, what it still holds under each reference of the assets in
    `symbols` (positive amounts only). A group's balances and holds are those of its accounts in
    one program, `program_scope`."""
    owner = [owner_type, owner_id]
    branches = [_TAGS, _ATTRIBUTES, _COUNTERS]
    params: list[Any] = owner * 3
    if symbols is not None:
        branches.append(_BALANCES)
        params += [*owner, program_scope]
    if tiers is not None:
        program_id, as_of = tiers
        branches.append(_TIERS)
        params += [owner_id, program_id, _TIER_MOMENT(as_of)]
    if holds:
        branches.append(_HOLDS)
        params += [owner_type, owner_id, program_scope, HELD]
    state = OwnerState()
    for kind, key, text, amount, moment, number in statements.rows(
        " UNION ALL ".join(branches), params, (str, str, str, _AMOUNT, _MOMENT, int)
    ):
        _take(state, symbols or {}, kind, key, text, amount, moment, number)
    state.tags.sort()
    return state


def _take(
    state: OwnerState,
    symbols: dict[str, str],
    kind: str,
    key: str,
    text: Any,
    amount: Any,
    moment: Any,
    number: Any,
) -> None:
    """One row of the union into `state` (a branch's unused columns are None)."""
    if kind == "t":
        state.tags.append(key)
    elif kind == "a":
        state.attributes[key] = text
    elif kind == "c":
        state.counters[key] = CounterState(value=amount, reset_after=text, last_reset_at=moment)
    elif kind == "b":
        if key in symbols:
            setattr(state.balances.setdefault(symbols[key], Balance()), _BUCKET_FIELDS[text], amount)
    elif kind == "r":
        state.tiers[key] = TierState(level=text, rank=number)
    elif kind == "h" and key in symbols and amount > 0:
        state.holds.setdefault(symbols[key], {})[text] = amount
