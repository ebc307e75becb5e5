"""Accounts: one (entity, asset, bucket), found or created inside the caller's transaction.

`AccountBook` is used within one write transaction. It creates missing accounts race-free
(`INSERT ... ON CONFLICT DO NOTHING`), locks the rows it returns on PostgreSQL
(`SELECT ... FOR UPDATE`; SQLite's `BEGIN IMMEDIATE` already holds the database's write lock) and
caches them, so an account is read once per transaction however many postings touch it.
`update_balances` writes the balances a transaction moved, guarded, in one statement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.errors import LedgerInvariantError
from engine.model.state import Balance
from engine.store import statements
from engine.store.db import is_postgres, new_id, utcnow
from engine.store.models import AVAILABLE, BUCKETS, DEFERRED, HELD, Account, Asset
from engine.store.pipelining import after_sync

AccountKey = tuple[str, str, str, str, str]  # entity_type, entity_id, program_scope, asset_id, bucket
_KEY_CLAUSE = "entity_type = {p} AND entity_id = {p} AND program_scope = {p} AND asset_id = {p} AND bucket = {p}"


@dataclass(frozen=True)
class Entity:
    """A ledger entity: PARTICIPANT / GROUP / PROGRAM / SYSTEM and its id (group accounts are also
    scoped to a program)."""

    type: str
    id: str
    scope: str = ""


def lock(query):
    """`query` with FOR UPDATE on PostgreSQL; unchanged on SQLite (the transaction holds the lock)."""
    return query.for_update() if is_postgres() else query


class AccountBook:
    """The accounts one transaction touches, locked and cached by key."""

    def __init__(self, organisation_id: str) -> None:
        self.organisation_id = organisation_id
        self._accounts: dict[AccountKey, Account] = {}

    def get(self, entity_type: str, entity_id: str, asset: Asset, bucket: str, program_scope: str = "") -> Account:
        """The locked account, created with a zero balance when missing.

        >>> book.get("PARTICIPANT", participant.id, asset, "AVAILABLE").balance
        Decimal('0')
        """
        key = (entity_type, entity_id, program_scope, asset.id, bucket)
        account = self._accounts.get(key)
        if account is None:
            account = self._load(key) or self._create(key)
            self._accounts[key] = account
        return account

    def prefetch(self, keys: list[AccountKey]) -> None:
        """Load (and lock) several accounts with one statement; missing ones are created by `get`."""
        wanted = [key for key in dict.fromkeys(keys) if key not in self._accounts]
        if len(wanted) < 2:
            return
        where = " OR ".join([f"({_KEY_CLAUSE})"] * len(wanted))
        for account in statements.fetch(Account, where, [part for key in wanted for part in key], for_update=True):
            key = (account.entity_type, account.entity_id, account.program_scope, account.asset_id, account.bucket)
            self._accounts[key] = account

    def touched(self) -> list[Account]:
        return list(self._accounts.values())

    def _load(self, key: AccountKey) -> Account | None:
        found = statements.fetch(Account, _KEY_CLAUSE, list(key), for_update=True)
        return found[0] if found else None

    def _create(self, key: AccountKey) -> Account:
        entity_type, entity_id, program_scope, asset_id, bucket = key
        statements.insert(
            Account,
            [
                {
                    "id": new_id(),
                    "organisation": self.organisation_id,
                    "entity_type": entity_type,
                    "entity_id": entity_id,
                    "program_scope": program_scope,
                    "asset": asset_id,
                    "bucket": bucket,
                    "balance": Decimal(0),
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
            ],
            ignore_conflicts=True,
        )
        account = self._load(key)
        if account is None:  # pragma: no cover - the insert above guarantees the row
            raise RuntimeError(f"account {key} vanished after its insert")
        return account


def balances_of(
    entity_type: str, entity_id: str, asset_ids: list[str] | None = None, program_scope: str = ""
) -> dict[str, Balance]:
    """Balances of one entity by asset id (no locks; for reads and for the engine's context).

    >>> balances_of("PARTICIPANT", participant.id)[asset.id].available
    Decimal('100.00')
    """
    query = Account.select(Account.asset, Account.bucket, Account.balance).where(
        (Account.entity_type == entity_type)
        & (Account.entity_id == entity_id)
        & (Account.program_scope == program_scope)
    )
    if asset_ids is not None:
        query = query.where(Account.asset.in_(asset_ids))
    result: dict[str, Balance] = {}
    for row in query:
        balance = result.setdefault(row.asset_id, Balance())
        _set_bucket(balance, row.bucket, row.balance)
    return result


def _set_bucket(balance: Balance, bucket: str, amount: Decimal) -> None:
    if bucket == AVAILABLE:
        balance.available = amount
    elif bucket == HELD:
        balance.held = amount
    elif bucket == DEFERRED:
        balance.deferred = amount
    else:  # pragma: no cover - the bucket column only ever holds BUCKETS
        raise ValueError(f"unknown bucket {bucket!r}; expected one of {BUCKETS}")


def update_balances(
    balances: dict[str, Any], now: Any, *, expected: dict[str, Any] | None = None
) -> Callable[[], list[tuple]]:
    """Set several accounts' balances in one UPDATE (`CASE id WHEN ... THEN ...`). With
    `expected` (account id -> the balance it was read with), an account whose stored balance
    differs is left alone and refused, in the same statement; the refusal is raised once the
    statement's result is known (`after_sync`: at once, or at the end of a `pipelining.pipelined`
    block). Returns the reader of what the database stored: (account id, balance) of each account
    updated (`RETURNING`).

    >>> update_balances({account.id: Decimal("12.50")}, utcnow(), expected={account.id: Decimal("2.50")})
    """
    count, guarded = len(balances), expected is not None
    cases = " ".join(["WHEN {p} THEN {p}"] * count)
    # PostgreSQL types a CASE of untyped parameters as text: cast it back to the column's type.
    cast = "::numeric" if is_postgres() else ""
    guard = f' AND "balance" = (CASE "id" {cases} END){cast}' if guarded else ""
    sql = (
        f'UPDATE "account" SET "balance" = (CASE "id" {cases} END){cast}, "updated_at" = {{p}} '
        f'WHERE "id" IN ({statements.marks(count)}){guard} RETURNING "id", "balance"'
    )
    amount = Account.balance.db_value
    params = [part for account_id, balance in balances.items() for part in (account_id, amount(balance))]
    params.append(Account.updated_at.db_value(now))
    params.extend(balances)
    if expected is not None:
        params.extend(part for account_id in balances for part in (account_id, amount(expected[account_id])))
    stored = statements.sent_rows(sql, params, (str, Account.balance.python_value))

    def check() -> None:
        changed = len(stored())
        if changed != count:
            what = "changed or vanished" if guarded else "vanished"
            raise LedgerInvariantError(
                f"{count - changed} of {count} accounts {what} while locked", code="ledger_balance_mismatch"
            )

    after_sync(check)
    return stored
