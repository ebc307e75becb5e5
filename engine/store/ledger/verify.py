"""`accrual verify`: prove the ledger from its postings (D20).

For every organisation it walks the journal in sequence order and checks that each entry has at
least two postings summing to zero per asset, that its `prev_hash` is the previous entry's hash and
that its `entry_hash` is the SHA-256 of its canonical form; that the ledger head names the last
entry; for every account, that the stored balance equals the sum of its postings; and that what
HELD accounts hold under each reference (`held_reference`) equals the sum of their referenced
postings; and that the lots of LOT assets agree with the balances and expired once each
(`verify_lots`); and that the reports' hourly rollup equals the entries it folded (`verify_rollup`).

    >>> report = verify()
    >>> report.ok, report.entries, report.accounts
    (True, 12, 7)
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import msgspec

from engine.store.fields import to_decimal
from engine.store.ledger.hashchain import GENESIS, document_hash, entry_document
from engine.store.ledger.held import deltas_of
from engine.store.ledger.verify_lots import verify_lots
from engine.store.models import HELD, Account, HeldReference, JournalEntry, LedgerHead, Organisation, Posting
from engine.store.reports.rollup import verify_rollup

BATCH = 500


class Mismatch(msgspec.Struct, kw_only=True):
    # chain_broken, hash_mismatch, unbalanced, too_few_postings, balance_mismatch, head_mismatch,
    # sequence_gap, held_reference_mismatch, lot_remaining, lot_status, lot_balance_mismatch, lot_expiry,
    # rollup_mismatch
    code: str
    message: str
    organisation_id: str
    entry_id: str | None = None
    account_id: str | None = None


class VerifyReport(msgspec.Struct, kw_only=True):
    organisations: int = 0
    entries: int = 0
    postings: int = 0
    accounts: int = 0
    lots: int = 0
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
        report.lots += verify_lots(organisation.id, _reporter(organisation.id, report))
        for problem in verify_rollup(organisation.id):  # the reports' hourly rollup (A187)
            report.mismatches.append(Mismatch(code="rollup_mismatch", message=problem, organisation_id=organisation.id))
    return report


def _reporter(organisation_id: str, report: VerifyReport):
    def add(code: str, message: str, account_id: str | None) -> None:
        report.mismatches.append(
            Mismatch(code=code, message=message, organisation_id=organisation_id, account_id=account_id)
        )

    return add


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
                report.mismatches.append(
                    Mismatch(code=code, message=message, organisation_id=organisation_id, entry_id=entry.id)
                )
            previous, expected_sequence = entry.entry_hash, entry.sequence + 1
        last_sequence = entries[-1].sequence
    head = LedgerHead.get_or_none(LedgerHead.id == organisation_id)
    head_hash, head_sequence = (head.last_hash, head.sequence) if head else (GENESIS, 0)
    if (head_hash, head_sequence) != (previous, expected_sequence - 1):
        report.mismatches.append(
            Mismatch(
                code="head_mismatch",
                organisation_id=organisation_id,
                message=f"ledger head says sequence {head_sequence}, the journal ends at {expected_sequence - 1}",
            )
        )


def _entry_problems(entry, postings, previous: str, expected_sequence: int):
    name = f"entry {entry.id} (sequence {entry.sequence})"
    if entry.sequence != expected_sequence:
        yield "sequence_gap", f"{name}: expected sequence {expected_sequence}"
    if entry.prev_hash != previous:
        yield "chain_broken", f"{name}: prev_hash does not match the previous entry's hash"
    if document_hash(entry_document(entry, postings)) != entry.entry_hash:
        yield "hash_mismatch", f"{name}: entry_hash does not match its contents"
    if len(postings) < 2:
        yield "too_few_postings", f"{name}: {len(postings)} posting(s)"
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for posting in postings:
        sums[posting.asset_symbol] += posting.amount
    for symbol, total in sorted(sums.items()):
        if total != 0:
            yield "unbalanced", f"{name}: postings of {symbol} sum to {total}"


def _verify_balances(organisation_id: str, report: VerifyReport) -> None:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    referenced_holds = []
    # Through the entries: (organisation_id, sequence) finds them, (entry_id, position) their postings.
    query = (
        Posting.select(Posting.account, Posting.amount, Posting.bucket, JournalEntry.reference_id)
        .join(JournalEntry)
        .where(JournalEntry.organisation == organisation_id)
        .tuples()
    )
    for account_id, raw_amount, bucket, reference_id in query.iterator():
        amount = to_decimal(raw_amount)
        sums[account_id] += amount
        if bucket == HELD and reference_id is not None:
            referenced_holds.append((account_id, bucket, reference_id, amount))
    _verify_held_references(organisation_id, deltas_of(referenced_holds), report)
    for account in Account.select().where(Account.organisation == organisation_id).order_by(Account.id):
        report.accounts += 1
        if account.balance != sums.get(account.id, Decimal(0)):
            report.mismatches.append(
                Mismatch(
                    code="balance_mismatch",
                    organisation_id=organisation_id,
                    account_id=account.id,
                    message=(
                        f"account {account.id} ({account.entity_type} {account.entity_id} {account.bucket}) "
                        f"stores {account.balance}, its postings sum to {sums.get(account.id, Decimal(0))}"
                    ),
                )
            )


def _verify_held_references(
    organisation_id: str, expected: dict[tuple[str, str], Decimal], report: VerifyReport
) -> None:
    """`held_reference` must hold exactly the non-zero sums of the referenced HELD postings."""
    stored = {
        (row.account_id, row.reference_id): row.amount
        for row in HeldReference.select().join(Account).where(Account.organisation == organisation_id)
    }
    for account_id, reference_id in sorted(expected.keys() | stored.keys()):
        want, have = expected.get((account_id, reference_id), Decimal(0)), stored.get((account_id, reference_id))
        if have != want and not (have is None and want == 0):
            report.mismatches.append(
                Mismatch(
                    code="held_reference_mismatch",
                    organisation_id=organisation_id,
                    account_id=account_id,
                    message=(
                        f"account {account_id} holds {have if have is not None else 'nothing'} under reference "
                        f"{reference_id!r}, its postings sum to {want}"
                    ),
                )
            )
