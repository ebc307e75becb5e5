from __future__ import annotations

from decimal import Decimal

import pytest

from engine.errors import LedgerInvariantError
from engine.store import statements
from engine.store.db import is_postgres, new_id, utcnow, write_transaction
from engine.store.ledger.accounts import AccountBook, update_balances
from engine.store.models import Account, StateTag
from engine.store.pipelining import after_sync, pipelined


def test_a_pipelined_block_sends_now_and_checks_once_the_results_are_back(world):
    order: list[str] = []
    row = {"id": new_id(), "organisation": world.org.id, "owner_type": "PARTICIPANT",
           "owner_id": world.alice.id, "tag": "vip", "created_at": utcnow()}  # fmt: skip
    with write_transaction(), pipelined():
        statements.insert(StateTag, [row])
        read = statements.sent_rows("SELECT tag FROM state_tag WHERE id = {p}", [row["id"]], (str,))
        after_sync(lambda: order.append(f"checked {read()}"))
        order.append("block ends")
    # PostgreSQL answers the whole block at its end; SQLite runs each statement and check at once.
    expected = ["block ends", "checked [('vip',)]"] if is_postgres() else ["checked [('vip',)]", "block ends"]
    assert order == expected


def test_a_check_that_fails_after_the_sync_rolls_the_transaction_back(world):
    def refuse() -> None:
        raise LedgerInvariantError("refused after the results", code="ledger_invariant")

    row = {"id": new_id(), "organisation": world.org.id, "owner_type": "PARTICIPANT",
           "owner_id": world.alice.id, "tag": "gone", "created_at": utcnow()}  # fmt: skip
    with pytest.raises(LedgerInvariantError, match="after the results"), write_transaction(), pipelined():
        statements.insert(StateTag, [row])
        after_sync(refuse)
    assert statements.fetch(StateTag, "id = {p}", [row["id"]]) == []


def test_a_guarded_balance_update_refuses_a_changed_account_inside_a_pipeline(world):
    with write_transaction():
        account = AccountBook(world.org.id).get("PARTICIPANT", world.alice.id, world.pts, "AVAILABLE")
    refused = pytest.raises(LedgerInvariantError, match="changed or vanished")
    with refused, write_transaction(), pipelined():
        update_balances({account.id: Decimal(5)}, utcnow(), expected={account.id: Decimal(1)})
    assert Account.get_by_id(account.id).balance == Decimal(0)
