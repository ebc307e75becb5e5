"""Held amounts by reference: what each HELD account still holds under each `reference_id`.

A HOLD (or a CREDIT to HELD) with a reference puts an amount on hold under it; RELEASE, VOID_HOLD
and FORFEIT with that reference take from it. Rules and operations that name a reference read
what is left under it. Summing the postings for that on every event costs as much as the
participant's whole history of holds, so the sums are kept in `held_reference`, one row per
(account, reference) with a non-zero amount:

    apply_deltas({(held_account_id, "order-7"): Decimal("40")})      # inside the ledger's transaction

An event's context reads them with the owner's other state (`owner_reads.read_owner`, `holds`).

`Ledger.finish` applies the deltas of the entries it writes, under the accounts' locks, so the
rows change with the postings or not at all; `accrual verify` recomputes them from the postings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from engine.store import statements
from engine.store.db import database_proxy, new_id, utcnow
from engine.store.models import HELD, HeldReference

Key = tuple[str, str]  # (HELD account id, reference id)


def deltas_of(postings: Iterable[tuple[str, str, str | None, Decimal]]) -> dict[Key, Decimal]:
    """Net change per (account, reference) of postings given as (account id, bucket, the entry's
    reference id, amount); postings outside HELD or without a reference change nothing. Over all
    of an account's postings, these are the rows `held_reference` holds for it."""
    deltas: dict[Key, Decimal] = defaultdict(Decimal)
    for account_id, bucket, reference_id, amount in postings:
        if bucket == HELD and reference_id is not None:
            deltas[(account_id, reference_id)] += amount
    return {key: amount for key, amount in deltas.items() if amount != 0}


def apply_deltas(deltas: dict[Key, Decimal]) -> None:
    """Add `deltas` to the stored amounts, inside the caller's transaction (which must hold the
    accounts' locks): new rows are inserted, changed ones updated, rows reaching zero deleted."""
    if not deltas:
        return
    accounts = sorted({account_id for account_id, _ in deltas})
    references = sorted({reference_id for _, reference_id in deltas})
    where = (
        f"account_id IN ({statements.marks(len(accounts))}) AND reference_id IN ({statements.marks(len(references))})"
    )
    stored = {
        (row.account_id, row.reference_id): row
        for row in statements.fetch(HeldReference, where, [*accounts, *references], for_update=True)
    }
    now = utcnow()
    inserts, deletes = [], []
    for (account_id, reference_id), delta in sorted(deltas.items()):
        row = stored.get((account_id, reference_id))
        amount = (row.amount if row is not None else Decimal(0)) + delta
        if row is None:
            inserts.append(
                {
                    "id": new_id(),
                    "account": account_id,
                    "reference_id": reference_id,
                    "amount": amount,
                    "updated_at": now,
                }
            )
        elif amount == 0:
            deletes.append(row.id)
        else:
            statements.update(HeldReference, row.id, amount=amount, updated_at=now)
    statements.insert(HeldReference, inserts)
    if deletes:
        delete = f"DELETE FROM held_reference WHERE id IN ({statements.marks(len(deletes))})"
        database_proxy.obj.execute_sql(delete.format(p=database_proxy.obj.param), deletes)


def amount_held(account_id: str, reference_id: str) -> Decimal:
    """What the HELD account `account_id` still holds under `reference_id` (0 when nothing)."""
    found = statements.rows(
        "SELECT amount FROM held_reference WHERE account_id = {p} AND reference_id = {p}",
        [account_id, reference_id],
        (Decimal,),
    )
    return max(found[0][0], Decimal(0)) if found else Decimal(0)
