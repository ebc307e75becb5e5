"""Due work of the clock, found and applied in storage (D33): lots of LOT assets past their expiry or
maturity, DEFERRED credits of SIMPLE assets past their maturity, budgets past their period.

    settled = settle_due_lots(now, limit=500, on_settled=report)   # lots settled, with their entries
    moved = mature_due(now)                                        # SIMPLE deferred credits matured
    rolled = roll_due_budgets(now)                                 # budgets whose period ended

Each function takes at most `limit` items and returns how many it applied, so a caller loops until
a call returns less than its limit. Every item is claimed in the transaction that applies it: the
holder's accounts and lots are locked and read again there, and what another worker (or the
holder's own last event) already settled is simply no longer due, so nothing is applied twice,
whatever crashes or however many workers sweep. `now` is injected: `accrual sweep --until T`
and the tests move time by passing it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple, cast

from engine.errors import EngineError
from engine.store import statements
from engine.store.budgets import roll_over
from engine.store.db import write_transaction
from engine.store.ledger.accounts import lock
from engine.store.ledger.journal import Ledger
from engine.store.ledger.maturity import mature_due
from engine.store.ledger.movements import Entity, Settlement, settle
from engine.store.models import AVAILABLE, Asset, LotRecord, Program, RuleBudget, RuleRecord

HOLDERS_PER_TRANSACTION = 50  # holders settled per commit: few commits, short write locks

SettledHook = Callable[[list[Settlement]], None]


class Holder(NamedTuple):
    """One holder's lots of one asset: the unit the sweep settles."""

    organisation_id: str
    entity_type: str
    entity_id: str
    program_scope: str
    asset_id: str


def due_lot_holders(now: datetime, limit: int) -> list[Holder]:
    """Holders with a lot that is due at `now` (to expire, or to mature), earliest due first."""
    stamp = _stamp(now)
    found = statements.rows(
        "SELECT organisation_id, entity_type, entity_id, program_scope, asset_id, MIN(due) FROM ("
        "SELECT organisation_id, entity_type, entity_id, program_scope, asset_id, expires_at AS due FROM lot "
        "WHERE status IN ('DEFERRED', 'AVAILABLE', 'HELD') AND expires_at IS NOT NULL AND expires_at <= {p} "
        "UNION ALL "
        "SELECT organisation_id, entity_type, entity_id, program_scope, asset_id, matures_at AS due FROM lot "
        "WHERE status = 'DEFERRED' AND matures_at <= {p}) AS due_lots "
        "GROUP BY organisation_id, entity_type, entity_id, program_scope, asset_id ORDER BY MIN(due) LIMIT {p}",
        [stamp, stamp, limit],
        (str, str, str, str, str, str),
    )
    return [Holder(*row[:5]) for row in found]


def count_due_holders(now: datetime) -> int:
    """How many holders have lots due at `now` (for progress)."""
    stamp = _stamp(now)
    (total,) = statements.rows(
        "SELECT COUNT(*) FROM (SELECT DISTINCT entity_type, entity_id, program_scope, asset_id FROM lot "
        "WHERE (status IN ('DEFERRED', 'AVAILABLE', 'HELD') AND expires_at IS NOT NULL AND expires_at <= {p}) "
        "OR (status = 'DEFERRED' AND matures_at <= {p})) AS due_holders",
        [stamp, stamp],
        (int,),
    )[0]
    return total


class LotSweep(NamedTuple):
    holders: int  # holders taken up (settled, or found settled already); a failed batch is not counted,
    # so a pass whose batches keep failing ends instead of looping on them
    settled: list[Settlement]


def settle_due_lots(now: datetime, limit: int = 500, on_settled: SettledHook | None = None) -> LotSweep:
    """Settle the due lots of up to `limit` holders, `HOLDERS_PER_TRANSACTION` of one organisation
    per transaction; `on_settled` sees each transaction's settlements inside it (to record
    webhooks)."""
    settled: list[Settlement] = []
    taken = 0
    for batch in _batches(due_lot_holders(now, limit)):
        try:
            settled += _settle(batch, now, on_settled)
        except EngineError:  # an archived asset, say: rolled back, still due, tried next pass
            continue
        taken += len(batch)
    return LotSweep(taken, settled)


def _batches(holders: list[Holder]) -> list[list[Holder]]:
    by_organisation: dict[str, list[Holder]] = {}
    for holder in holders:
        by_organisation.setdefault(holder.organisation_id, []).append(holder)
    return [
        group[start : start + HOLDERS_PER_TRANSACTION]
        for group in by_organisation.values()
        for start in range(0, len(group), HOLDERS_PER_TRANSACTION)
    ]


def _settle(holders: list[Holder], now: datetime, on_settled: SettledHook | None) -> list[Settlement]:
    with write_transaction():
        ledger = Ledger(holders[0].organisation_id)  # lock order as everywhere: the ledger head first
        for asset, entity in _load(ledger, holders):
            settle(ledger, asset, entity, now)
        ledger.finish()
        if on_settled is not None and ledger.settlements:
            on_settled(ledger.settlements)
        return ledger.settlements


def _load(ledger: Ledger, holders: list[Holder]) -> list[tuple[Asset, Entity]]:
    """The holders with their assets; their open lots and AVAILABLE accounts (what `settle` reads)
    loaded and locked in a few statements for the whole batch rather than two per holder."""
    asset_ids = sorted({holder.asset_id for holder in holders})
    assets = {row.id: row for row in statements.fetch(Asset, f"id IN ({statements.marks(len(asset_ids))})", asset_ids)}
    pairs = [(assets[h.asset_id], Entity(h.entity_type, h.entity_id, h.program_scope)) for h in holders]
    ledger.accounts.prefetch([(entity.type, entity.id, entity.scope, asset.id, AVAILABLE) for asset, entity in pairs])
    for asset in assets.values():
        ledger.lots.preload(asset, [entity for owner, entity in pairs if owner is asset])
    return pairs


def roll_due_budgets(now: datetime, limit: int = 500) -> int:
    """Start the new period of up to `limit` budgets whose period has ended by `now` (a budget
    also rolls over when a credit next consumes it; this keeps the stored rows current)."""
    due = cast(
        list[tuple[str, str | None]],
        list(
            RuleBudget.select(RuleBudget.id, Program.timezone)
            .join(RuleRecord)
            .join(Program)
            .where(RuleBudget.next_reset_at.is_null(False) & (RuleBudget.next_reset_at <= now))
            .order_by(RuleBudget.next_reset_at)
            .limit(limit)
            .tuples()
        ),
    )
    rolled = 0
    for budget_id, timezone in due:
        with write_transaction():
            row = lock(RuleBudget.select().where(RuleBudget.id == budget_id)).first()
            if row is not None and row.next_reset_at is not None and row.next_reset_at <= now:
                roll_over(row, now, timezone or "UTC")  # calendar periods begin in the program's zone
                rolled += 1
    return rolled


def _stamp(now: datetime) -> str | None:
    """`now` as the lot table's time columns store it (naive UTC text, which both databases compare)."""
    return LotRecord.expires_at.db_value(now)


__all__ = [
    "Holder",
    "LotSweep",
    "count_due_holders",
    "due_lot_holders",
    "mature_due",
    "roll_due_budgets",
    "settle_due_lots",
]
