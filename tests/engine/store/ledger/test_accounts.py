"""Accounts: the guarded update of the balances a transaction moved."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.errors import LedgerInvariantError
from engine.store import statements
from engine.store.db import new_id, utcnow
from engine.store.ledger.accounts import update_balances
from engine.store.models import Account


def test_update_balances_sets_each_account_returns_what_it_stored_and_notices_a_missing_one(world):
    ids = []
    for person in (world.alice, world.bob):
        ids.append(new_id())
        statements.insert(
            Account,
            [
                {
                    "id": ids[-1],
                    "organisation": world.org.id,
                    "entity_type": "PARTICIPANT",
                    "entity_id": person.id,
                    "program_scope": "",
                    "asset": world.pts.id,
                    "bucket": "AVAILABLE",
                    "balance": Decimal(0),
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
            ],
        )
    stored = update_balances({ids[0]: Decimal("1.50"), ids[1]: Decimal("-1.50")}, utcnow())
    assert [Account.get_by_id(i).balance for i in ids] == [Decimal("1.50"), Decimal("-1.50")]
    assert sorted(stored()) == sorted([(ids[0], Decimal("1.50")), (ids[1], Decimal("-1.50"))])
    with pytest.raises(LedgerInvariantError):
        update_balances({ids[0]: Decimal(1), "missing": Decimal(-1)}, utcnow())
