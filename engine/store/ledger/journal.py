"""Journal entries, postings and balances, with the invariants checked twice (D18-D20).

A `Ledger` lives inside one write transaction of one organisation:

    ledger = Ledger(organisation_id)                # locks the organisation's ledger head
    ledger.post("CREDIT", [Leg(issuance, asset, -amount), Leg(available, asset, amount)], ...)
    ledger.finish()                                 # writes, re-checks in the database, advances the head

`post` checks the entry as it is built (at least two legs, amounts non-zero and at the asset's
scale, zero sum per asset, no account below zero unless allowed), moves the locked accounts'
balances in memory and appends the entry to the hash chain (its own sequence, its hash over its
predecessor's). Nothing reaches the database until `finish`, which writes every built entry with
one statement, their postings with one, the touched balances with one (guarded: each account
must still hold the balance it was read with). The database answers those writes with what it
stored (`RETURNING`: each posting, each touched account's balance), and `finish` proves it again
from that answer before the caller commits: every entry's postings are those built and sum to
zero per asset, and every touched account's stored balance equals its opening balance plus its
new postings. So posting N entries takes as many statements as posting one; a caller that never
calls `finish` writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from engine.errors import LedgerInvariantError
from engine.model import amounts
from engine.model.amounts import AmountError
from engine.store import statements
from engine.store.db import new_id, utcnow
from engine.store.errors import LedgerRejected
from engine.store.ledger import held
from engine.store.ledger.accounts import AccountBook, update_balances
from engine.store.ledger.hashchain import GENESIS, document_hash, new_entry_document
from engine.store.ledger.lots import LotBook
from engine.store.models import SYSTEM, Account, Asset, JournalEntry, LedgerHead, Posting
from engine.store.pipelining import after_sync

ZERO = Decimal(0)


def invariant(condition: bool, message: str, code: str = "ledger_invariant", **details) -> None:
    """Raise `LedgerInvariantError` unless `condition` (survives `python -O`, unlike assert)."""
    if not condition:
        raise LedgerInvariantError(message, code=code, **details)


def parse_amount(value: object, asset: Asset, *, what: str = "amount") -> Decimal:
    """An amount a person wrote, at the asset's scale (`engine.model.amounts.parse_amount`), or
    `LedgerRejected` with its code.

    >>> parse_amount("10.5", asset_with_scale_2)
    Decimal('10.50')
    """
    try:
        return amounts.parse_amount(value, scale=asset.scale, what=what)
    except AmountError as exc:
        raise LedgerRejected(f"{exc.message} ({asset.symbol})", code=exc.code, scale=asset.scale) from exc


def check_transaction_limit(amount: Decimal, asset: Asset) -> None:
    try:
        amounts.check_limit(amount, asset.max_transaction_amount)
    except AmountError as exc:
        raise LedgerRejected(f"{exc.message} ({asset.symbol})", code=exc.code) from exc


@dataclass(frozen=True)
class Leg:
    """One side of an entry: a signed amount on an account (positive credits the account)."""

    account: Account
    asset: Asset
    amount: Decimal
    allow_negative: bool = False


class Ledger:
    """Appends balanced entries for one organisation inside the caller's transaction."""

    def __init__(self, organisation_id: str, locked_head: tuple[int, str] | None = None) -> None:
        """Lock the organisation's ledger head, or take `locked_head` (sequence, last hash) that
        the caller has just read with its lock in this transaction (one statement fewer)."""
        self.organisation_id = organisation_id
        self.accounts = AccountBook(organisation_id)
        self.lots = LotBook(organisation_id)
        self.settlements: list[Any] = []  # lots expired or matured in this transaction (`settlement`)
        if locked_head is not None:
            sequence, last_hash = locked_head
            self.head = statements.built(
                LedgerHead, {"id": organisation_id, "sequence": sequence, "last_hash": last_hash}
            )
        else:
            found = statements.fetch(LedgerHead, "id = {p}", [organisation_id], for_update=True)
            if not found:  # the organisation's first entry: create the head, then lock it
                statements.insert(
                    LedgerHead, [{"id": organisation_id, "sequence": 0, "last_hash": GENESIS}], ignore_conflicts=True
                )
                found = statements.fetch(LedgerHead, "id = {p}", [organisation_id], for_update=True)
            self.head = found[0]
        self.entries: list[JournalEntry] = []
        self._postings: list[dict] = []  # built, written by `finish`
        self._balances: dict[str, Decimal] = {}  # account id -> balance after the built entries
        self._opening: dict[str, Decimal] = {}
        self._expected_postings: dict[str, list[tuple[str, Decimal]]] = {}

    def post(self, action_type: str, legs: list[Leg], **fields) -> JournalEntry:
        """Build one entry (fields: program_id, description, event_id, rule_id, rule_version,
        reference_id, created_by_api_key_id) and move its accounts' balances; `finish` writes it."""
        _check_legs(legs)
        for leg in legs:
            self._opening.setdefault(leg.account.id, leg.account.balance)
            after = leg.account.balance + leg.amount
            if leg.amount < 0 and after < 0 and not (leg.allow_negative or leg.account.entity_type == SYSTEM):
                raise LedgerRejected(
                    f"insufficient {leg.account.bucket} balance of {leg.asset.symbol}: "
                    f"{leg.account.balance} available, {-leg.amount} needed",
                    code="insufficient_funds",
                    bucket=leg.account.bucket,
                    asset=leg.asset.symbol,
                )
            leg.account.balance = after
        unknown = fields.keys() - ENTRY_FIELDS
        if unknown:
            raise TypeError(f"unknown journal entry fields: {sorted(unknown)}")
        created_at = utcnow()
        entry = statements.built(
            JournalEntry,
            {
                "id": new_id(),
                "organisation": self.organisation_id,
                "program": fields.pop("program_id", None),
                "sequence": self.head.sequence + 1,
                "action_type": action_type,
                "description": None,
                "event_id": None,
                "rule_id": None,
                "rule_version": None,
                "created_by_api_key_id": None,
                "reference_id": None,
                "created_at": created_at,
                "prev_hash": self.head.last_hash,
                "entry_hash": None,
                **fields,
            },
        )
        postings: list[dict[str, Any]] = [
            {
                "id": new_id(),
                "entry": entry.id,
                "position": position,
                "account": leg.account.id,
                "asset": leg.asset.id,
                "asset_symbol": leg.asset.symbol,
                "bucket": leg.account.bucket,
                "entity_type": leg.account.entity_type,
                "entity_id": leg.account.entity_id,
                "amount": leg.amount,
                "created_at": created_at,
            }
            for position, leg in enumerate(legs)
        ]
        entry.entry_hash = document_hash(new_entry_document(entry.__data__, postings))
        self._postings.extend(postings)
        for leg in legs:
            self._balances[leg.account.id] = leg.account.balance
        self.head.sequence, self.head.last_hash = entry.sequence, entry.entry_hash
        self._expected_postings[entry.id] = [(p["asset"], p["amount"]) for p in postings]
        self.entries.append(entry)
        return entry

    def amount_of(self, entry_id: str) -> Decimal:
        """What an entry built in this transaction moved: the sum of its positive postings."""
        return sum((amount for _, amount in self._expected_postings[entry_id] if amount > 0), Decimal(0))

    def finish(self) -> None:
        """Write the built entries, postings and balances, prove from what the database answered
        to those writes what `post` promised, and advance the head. Inside `pipelining.pipelined`
        the writes go in one round trip, and the proof runs when their answers return."""
        if not self.entries:
            return
        self.lots.flush()  # the lots the entries moved, and what each entry took from them
        references = {entry.id: entry.reference_id for entry in self.entries if entry.reference_id is not None}
        if references:  # what HELD accounts hold under each reference (`held`), under the same locks
            held.apply_deltas(
                held.deltas_of(
                    (posting["account"], posting["bucket"], references.get(posting["entry"]), posting["amount"])
                    for posting in self._postings
                )
            )
        for start in range(0, len(self.entries), _ROWS_PER_INSERT):
            statements.insert(
                JournalEntry, [entry.__data__ for entry in self.entries[start : start + _ROWS_PER_INSERT]]
            )
        stored = [
            statements.insert_returning(Posting, self._postings[start : start + _ROWS_PER_INSERT], *_STORED_POSTING)
            for start in range(0, len(self._postings), _ROWS_PER_INSERT)
        ]
        # Guarded by the opening balances: an account changed since it was read is refused.
        balances = update_balances(self._balances, utcnow(), expected=self._opening)
        after_sync(lambda: self._prove([row for read in stored for row in read()], balances()))
        statements.update(LedgerHead, self.organisation_id, sequence=self.head.sequence, last_hash=self.head.last_hash)

    def _prove(self, postings: list[tuple], balances: list[tuple]) -> None:
        """What the database answered to the writes (`RETURNING`: each posting as stored, each
        touched account's stored balance) holds exactly what `post` built: each entry's postings,
        summing to zero per asset, and each touched account's opening balance plus its postings."""
        written: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
        deltas: dict[str, Decimal] = defaultdict(Decimal)
        for entry_id, asset_id, amount, account_id in postings:
            written[entry_id].append((asset_id, amount))
            deltas[account_id] += amount
        stored_balances: dict[str, Decimal] = dict(balances)
        for entry_id, expected in self._expected_postings.items():
            if sorted(written[entry_id]) != sorted(expected):
                raise LedgerInvariantError(
                    f"entry {entry_id} postings differ from those built",
                    code="ledger_postings_mismatch",
                    entry_id=entry_id,
                )
            _check_zero_sum(entry_id, written[entry_id])
        invariant(
            set(stored_balances) == set(self._opening), "a touched account is missing", code="ledger_balance_mismatch"
        )
        for account_id, balance in stored_balances.items():
            computed = self._opening[account_id] + deltas[account_id]
            if balance != computed:
                raise LedgerInvariantError(
                    f"account {account_id} balance {balance} != {computed}",
                    code="ledger_balance_mismatch",
                    account_id=account_id,
                )


_ROWS_PER_INSERT = 500  # bounds one statement's parameters (SQLite allows 32766)

ENTRY_FIELDS = frozenset(
    {"program_id", "description", "event_id", "rule_id", "rule_version", "reference_id", "created_by_api_key_id"}
)

# What the posting insert returns of each row as stored, and how each column is read.
_STORED_POSTING = (("entry", "asset", "amount", "account"), (str, str, Posting.amount.python_value, str))


def _exponent(amount: Decimal) -> int:
    """The exponent of a finite amount (`as_tuple` also allows the letters of NaN and infinity)."""
    return cast(int, amount.as_tuple().exponent)


def _check_legs(legs: list[Leg]) -> None:
    # Every entry of every event passes here: the messages are built only for a failed check.
    if len(legs) < 2:
        raise LedgerInvariantError("an entry needs at least two postings", code="ledger_unbalanced")
    for leg in legs:
        if not leg.amount:
            raise LedgerInvariantError("a posting of zero", code="ledger_zero_posting")
        if leg.account.asset_id != leg.asset.id:
            raise LedgerInvariantError("a posting's asset differs from its account's", code="ledger_invariant")
        if _exponent(leg.amount) < -leg.asset.scale:
            raise LedgerInvariantError(f"{leg.amount} is finer than {leg.asset.symbol}'s scale", code="ledger_scale")
    _check_zero_sum("(new)", [(leg.asset.id, leg.amount) for leg in legs])


def _check_zero_sum(entry_id: str, amounts: list[tuple[str, Decimal]]) -> None:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for asset_id, amount in amounts:
        sums[asset_id] += amount
    unbalanced = {asset_id: total for asset_id, total in sums.items() if total != 0}
    invariant(
        not unbalanced,
        f"entry {entry_id} does not sum to zero: {unbalanced}",
        code="ledger_unbalanced",
        entry_id=entry_id,
    )
