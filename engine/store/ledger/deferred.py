"""DEFERRED credits of SIMPLE assets that are due: what the read-time view and the evaluator's
context count as AVAILABLE ahead of the scheduler, and what a movement matures first (D33).

    due = due_deferred(PARTICIPANT, participant_id, asset_id, now)   # [(credit id, amount), ...]

A SIMPLE asset's DEFERRED bucket is one balance; each credit posted to it is listed in
`deferred_credit` with its `matures_at` until a MATURITY entry moves it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from engine.model.state import Balance
from engine.store import statements
from engine.store.models import DeferredCredit

_DUE = (
    "SELECT dc.id, dc.amount FROM deferred_credit AS dc JOIN account AS a ON a.id = dc.account_id "
    "WHERE a.entity_type = {p} AND a.entity_id = {p} AND a.program_scope = {p} AND a.asset_id = {p} "
    "AND a.bucket = 'DEFERRED' AND dc.matured_entry_id IS NULL AND dc.matures_at <= {p} ORDER BY dc.matures_at"
)


def due_deferred(
    entity_type: str, entity_id: str, asset_id: str, as_of: datetime, program_scope: str = ""
) -> list[tuple[str, Decimal]]:
    """The holder's DEFERRED credits of the asset whose maturity has come by `as_of`, oldest first."""
    stamp = DeferredCredit.matures_at.db_value(as_of)
    return statements.rows(_DUE, [entity_type, entity_id, program_scope, asset_id, stamp], (str, Decimal))


def matured_view(balance: Balance, due: list[tuple[str, Decimal]]) -> Balance:
    """`balance` with the due credits counted as AVAILABLE (a view; nothing is written)."""
    amount = sum((item for _, item in due), Decimal(0))
    if not amount:
        return balance
    return Balance(available=balance.available + amount, held=balance.held, deferred=balance.deferred - amount)


__all__ = ["due_deferred", "matured_view"]
