"""`accrual verify` for LOT assets (D34): the lots agree with the ledger.

* every lot's remaining value lies between 0 and its amount, and is above 0 exactly while the lot
  is open (DEFERRED, AVAILABLE or HELD);
* for every account of a LOT asset held by a participant or group, the remaining value of the
  open lots in its bucket adds up to the balance (or to 0 while the balance is negative);
* every EXPIRED lot's value reached SYSTEM_BREAKAGE exactly once: one EXPIRY entry took it,
  the amount the lot records, and no other EXPIRY entry touched the lot.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from engine.model.lots import OPEN_STATUSES
from engine.store.models import SYSTEM_BREAKAGE, Account, Asset, JournalEntry, LotRecord, LotTake, Posting

ZERO = Decimal(0)
Report = Callable[[str, str, str | None], None]  # (code, message, account id)


def verify_lots(organisation_id: str, report: Report) -> int:
    """Check the organisation's lots; returns how many were checked."""
    lots = list(LotRecord.select().where(LotRecord.organisation == organisation_id))
    sums: dict[tuple[str, str, str, str, str], Decimal] = defaultdict(Decimal)
    for lot in lots:
        _check_lot(lot, report)
        if lot.status in OPEN_STATUSES:
            sums[(lot.entity_type, lot.entity_id, lot.program_scope, lot.asset_id, lot.status)] += lot.remaining
    _check_accounts(organisation_id, sums, report)
    _check_expiries(organisation_id, [lot for lot in lots if lot.status == "EXPIRED"], report)
    return len(lots)


def _check_lot(lot: LotRecord, report: Report) -> None:
    name = f"lot {lot.id}"
    if lot.remaining < 0 or lot.remaining > lot.amount:
        report("lot_remaining", f"{name}: remaining {lot.remaining} outside 0..{lot.amount}", None)
    if (lot.status in OPEN_STATUSES) != (lot.remaining > 0):
        report("lot_status", f"{name}: status {lot.status} with remaining {lot.remaining}", None)


def _check_accounts(organisation_id: str, sums: dict, report: Report) -> None:
    lot_assets = {row.id for row in Asset.select(Asset.id).where(Asset.inventory_mode == "LOT")}
    accounts = Account.select().where(
        (Account.organisation == organisation_id)
        & Account.asset.in_(list(lot_assets))
        & Account.entity_type.in_(["PARTICIPANT", "GROUP"])
    )
    seen = set()
    for account in accounts:
        key = (account.entity_type, account.entity_id, account.program_scope, account.asset_id, account.bucket)
        seen.add(key)
        expected = max(account.balance, ZERO)
        if sums.get(key, ZERO) != expected:
            report(
                "lot_balance_mismatch",
                f"account {account.id} ({account.entity_type} {account.entity_id} {account.bucket}) holds "
                f"{account.balance}; its open lots hold {sums.get(key, ZERO)}",
                account.id,
            )
    for key in sorted(set(sums) - seen):
        report("lot_balance_mismatch", f"open lots of {key} hold {sums[key]} with no account", None)


def _check_expiries(organisation_id: str, expired: list[LotRecord], report: Report) -> None:
    takes: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)  # lot id -> (entry id, amount) of EXPIRY entries
    query = (
        LotTake.select(LotTake.lot, LotTake.entry_id, LotTake.amount)
        .join(JournalEntry, on=(JournalEntry.id == LotTake.entry_id))
        .where((JournalEntry.organisation == organisation_id) & (JournalEntry.action_type == "EXPIRY"))
    )
    for take in query:
        takes[take.lot_id].append((take.entry_id, take.amount))
    breakage = _breakage_by_entry(organisation_id)
    for lot in expired:
        found = takes.pop(lot.id, [])
        if len(found) != 1 or found[0] != (lot.expired_entry_id, -(lot.expired_amount or ZERO)):
            report("lot_expiry", f"lot {lot.id} expired {lot.expired_amount} but EXPIRY entries took {found}", None)
        elif breakage.get(lot.expired_entry_id or "", ZERO) != lot.expired_amount:
            report("lot_expiry", f"lot {lot.id}: its EXPIRY entry did not carry its value to breakage", None)
    for lot_id, found in takes.items():
        report("lot_expiry", f"lot {lot_id} is not EXPIRED but EXPIRY entries took {found}", None)


def _breakage_by_entry(organisation_id: str) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    query = (
        Posting.select(Posting.entry, Posting.amount)
        .join(JournalEntry)
        .where(
            (JournalEntry.organisation == organisation_id)
            & (JournalEntry.action_type == "EXPIRY")
            & (Posting.entity_type == "SYSTEM")
            & (Posting.entity_id == SYSTEM_BREAKAGE)
        )
    )
    for posting in query:
        sums[posting.entry_id] += posting.amount
    return sums
