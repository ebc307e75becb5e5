"""`accrual verify`: prove the ledger from its postings (D20).

For every organisation it walks the journal in sequence order and checks that each entry has at
least two postings summing to zero per asset, that its `prev_hash` is the previous entry's hash and
that its `entry_hash` is the SHA-256 of its canonical form; that the ledger head names the last
entry; and, for every account, that the stored balance equals the sum of its postings.

    >>> report = verify()
    >>> report.ok, report.entries, report.accounts
    (True, 12, 7)
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import msgspec

from engine.store.hashchain import GENESIS, entry_document, entry_hash
from engine.store.models import Organisation
from engine.store.models_ledger import Account, JournalEntry, LedgerHead, Posting

BATCH = 500


class Mismatch(msgspec.Struct, kw_only=True):
    code: str  # CHAIN_BROKEN, HASH_MISMATCH, UNBALANCED, TOO_FEW_POSTINGS, BALANCE_MISMATCH, HEAD_MISMATCH, SEQUENCE_GAP
    message: str
    organisation_id: str
    entry_id: str | None = None
    account_id: str | None = None


class VerifyReport(msgspec.Struct, kw_only=True):
    organisations: int = 0
    entries: int = 0
    postings: int = 0
    accounts: int = 0
    mismatches: list[Mismatch] = msgspec.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def verify() -> VerifyReport:
    """Check the whole ledger of every organisation; never raises on a mismatch, reports it."""
    report = VerifyReport()
    for organisation in Organisation.select(Organisation.id).order_by(Organisation.id):
        report.organisations += 1
        _verify_chain(organisation.id, report)
        _verify_balances(organisation.id, report)
    return report


def _verify_chain(organisation_id: str, report: VerifyReport) -> None:
    previous, expected_sequence = GENESIS, 1
    last_sequence = 0
    while True:
        entries = list(
            JournalEntry.select()
            .where((JournalEntry.organisation == organisation_id) & (JournalEntry.sequence > last_sequence))
            .order_by(JournalEntry.sequence)
            .limit(BATCH)
        )
        if not entries:
            break
        postings: dict[str, list[Posting]] = defaultdict(list)
        for posting in Posting.select().where(Posting.entry.in_([entry.id for entry in entries])):
            postings[posting.entry_id].append(posting)
        for entry in entries:
            found = postings[entry.id]
            report.entries += 1
            report.postings += len(found)
            for code, message in _entry_problems(entry, found, previous, expected_sequence):
                report.mismatches.append(Mismatch(code=code, message=message, organisation_id=organisation_id,
                                                  entry_id=entry.id))
            previous, expected_sequence = entry.entry_hash, entry.sequence + 1
        last_sequence = entries[-1].sequence
    head = LedgerHead.get_or_none(LedgerHead.id == organisation_id)
    head_hash, head_sequence = (head.last_hash, head.sequence) if head else (GENESIS, 0)
    if (head_hash, head_sequence) != (previous, expected_sequence - 1):
        report.mismatches.append(Mismatch(
            code="HEAD_MISMATCH", organisation_id=organisation_id,
            message=f"ledger head says sequence {head_sequence}, the journal ends at {expected_sequence - 1}",
        ))


def _entry_problems(entry, postings, previous: str, expected_sequence: int):
    name = f"entry {entry.id} (sequence {entry.sequence})"
    if entry.sequence != expected_sequence:
        yield "SEQUENCE_GAP", f"{name}: expected sequence {expected_sequence}"
    if entry.prev_hash != previous:
        yield "CHAIN_BROKEN", f"{name}: prev_hash does not match the previous entry's hash"
    if entry_hash(entry_document(entry, postings)) != entry.entry_hash:
        yield "HASH_MISMATCH", f"{name}: entry_hash does not match its contents"
    if len(postings) < 2:
        yield "TOO_FEW_POSTINGS", f"{name}: {len(postings)} posting(s)"
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for posting in postings:
        sums[posting.asset_symbol] += posting.amount
    for symbol, total in sorted(sums.items()):
        if total != 0:
            yield "UNBALANCED", f"{name}: postings of {symbol} sum to {total}"


def _verify_balances(organisation_id: str, report: VerifyReport) -> None:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    # Through the entries: (organisation_id, sequence) finds them, (entry_id, position) their postings.
    query = (Posting.select(Posting.account, Posting.amount).join(JournalEntry)
             .where(JournalEntry.organisation == organisation_id))
    for posting in query.iterator():
        sums[posting.account_id] += posting.amount
    for account in Account.select().where(Account.organisation == organisation_id).order_by(Account.id):
        report.accounts += 1
        if account.balance != sums.get(account.id, Decimal(0)):
            report.mismatches.append(Mismatch(
                code="BALANCE_MISMATCH", organisation_id=organisation_id, account_id=account.id,
                message=(f"account {account.id} ({account.entity_type} {account.entity_id} {account.bucket}) "
                         f"stores {account.balance}, its postings sum to {sums.get(account.id, Decimal(0))}"),
            ))
