"""Maturing deferred credits: credits posted to DEFERRED become AVAILABLE at their `matures_at`.

    moved = mature_due()                      # moves every credit due by now

The scheduler runs it (`engine.worker.scheduler`, job `deferred_credits`), and a movement that
spends the holder's value matures the holder's due credits first (`settlement.settle`). Here each
due credit moves in its own transaction with a MATURITY journal entry (DEFERRED -> AVAILABLE of
the same account holder, A35), recorded on the `deferred_credit` row so it never moves twice, even
when several processes run it at once.
"""

from __future__ import annotations

from datetime import datetime

from engine.errors import EngineError
from engine.store.db import utcnow, write_transaction
from engine.store.ledger.journal import Ledger
from engine.store.ledger.settlement import mature_credit
from engine.store.models import DeferredCredit

BATCH = 500


def mature_due(now: datetime | None = None, limit: int = BATCH) -> int:
    """Move up to `limit` credits whose `matures_at` has passed; returns how many moved.
    A credit that cannot move (its asset archived) stays due and is retried next time."""
    now = now or utcnow()
    due = list(
        DeferredCredit.select(DeferredCredit.id, DeferredCredit.organisation)
        .where(DeferredCredit.matured_entry_id.is_null() & (DeferredCredit.matures_at <= now))
        .order_by(DeferredCredit.matures_at)
        .limit(limit)
    )
    moved = 0
    for item in due:
        try:
            moved += _mature(item.id, item.organisation_id)
        except EngineError:
            continue  # rolled back; it stays due
    return moved


def _mature(credit_id: str, organisation_id: str) -> int:
    with write_transaction():
        ledger = Ledger(organisation_id)  # lock order as everywhere: the ledger head first
        done = mature_credit(ledger, credit_id)
        ledger.finish()
        return 0 if done is None else 1  # None: another caller moved it
