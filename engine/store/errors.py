"""Errors of the storage layer. `code` is stable and is what the API answers with.

    StoreError                     STORE
    ├── NotFound                   not_found                 no such row in this organisation
    ├── Conflict                   idempotency_conflict, participant_inactive, budget_conflict,
    │   │                          asset_archived, ...       the request clashes with stored state
    │   └── Duplicate              duplicate                 a unique key another writer took first
    └── LedgerRejected             insufficient_funds, insufficient_wallet, invalid_scale, invalid_amount,
                                   max_transaction_amount_exceeded, asset_not_linked,
                                   unsupported_action        a movement the ledger refuses

Broken ledger invariants raise `engine.errors.LedgerInvariantError` (code `ledger_invariant`, or a
refined `ledger_unbalanced`, `ledger_balance_mismatch`): those are bugs, never user errors.
"""

from __future__ import annotations

from engine.errors import EngineError


class StoreError(EngineError):
    code = "store"


class NotFound(StoreError):
    code = "not_found"


class Conflict(StoreError):
    code = "conflict"


class Duplicate(Conflict):
    """A unique key was taken by a concurrent writer: what the driver's IntegrityError means in
    every place that inserts under a unique key (`db.unique_insert`)."""

    code = "duplicate"


class LedgerRejected(StoreError):
    code = "ledger_rejected"
