"""Tables of the double-entry ledger (D18-D20).

    account        one (entity, asset, bucket) with its running `balance`
    journal_entry  one balanced movement; `sequence`, `prev_hash`, `entry_hash` chain it (D20)
    posting        one signed amount on one account; an entry's postings sum to zero per asset
    ledger_head    per organisation: the last sequence number and hash (locked to append)
    held_reference what a HELD account still holds under each reference id (derived, see
                   `engine/store/ledger/held.py`)
    idempotency_record  the stored answer of a direct operation sent with an idempotency key

Entities (`entity_type`, `entity_id`): PARTICIPANT (participant id), GROUP (group id; its accounts
are also scoped to a program), PROGRAM (program id: the program wallet) and SYSTEM
(`SYSTEM_ISSUANCE`, `SYSTEM_BREAKAGE`, `SYSTEM_REDEMPTION`; per asset, so per organisation).
"""

from __future__ import annotations

import peewee

from engine.store.db import utcnow
from engine.store.fields import AmountField, JSONField, UTCDateTimeField
from engine.store.models.core import Asset, BaseModel, Organisation, Program

AVAILABLE, HELD, DEFERRED = "AVAILABLE", "HELD", "DEFERRED"
BUCKETS = (AVAILABLE, HELD, DEFERRED)
SYSTEM_ISSUANCE, SYSTEM_BREAKAGE, SYSTEM_REDEMPTION = "SYSTEM_ISSUANCE", "SYSTEM_BREAKAGE", "SYSTEM_REDEMPTION"


class Account(BaseModel):
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    entity_type = peewee.CharField(max_length=16)
    entity_id = peewee.CharField(max_length=36)
    program_scope = peewee.CharField(max_length=36, default="")  # group accounts: the program id
    asset = peewee.ForeignKeyField(Asset, on_delete="CASCADE")
    asset_id: peewee.Field[str]
    bucket = peewee.CharField(max_length=16)
    balance = AmountField(default=0)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("entity_type", "entity_id", "program_scope", "asset", "bucket"), True),)


class LedgerHead(BaseModel):
    """`id` is the organisation id. Appending an entry locks this row, which orders the chain."""

    sequence = peewee.BigIntegerField(default=0)
    last_hash = peewee.CharField(max_length=64, default="0" * 64)


class JournalEntry(BaseModel):
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, null=True, on_delete="CASCADE")
    program_id: peewee.Field[str | None]
    sequence = peewee.BigIntegerField()
    action_type = peewee.CharField(
        max_length=16
    )  # CREDIT DEBIT HOLD RELEASE FORFEIT VOID_HOLD FUND BURN EXPIRY MATURITY REDEMPTION REVERSAL TRANSFER
    description = peewee.TextField(null=True)
    event_id = peewee.CharField(max_length=36, null=True, index=True)
    rule_id = peewee.CharField(max_length=36, null=True, index=True)
    rule_version = peewee.IntegerField(null=True)
    created_by_api_key_id = peewee.CharField(max_length=36, null=True)
    reference_id = peewee.CharField(max_length=255, null=True)
    created_at = UTCDateTimeField(default=utcnow)
    prev_hash = peewee.CharField(max_length=64)
    entry_hash = peewee.CharField(max_length=64)

    class Meta:
        indexes = ((("organisation", "sequence"), True), (("organisation", "program", "id"), False))


class Posting(BaseModel):
    entry = peewee.ForeignKeyField(JournalEntry, backref="postings", on_delete="CASCADE")
    entry_id: peewee.Field[str]
    position = peewee.SmallIntegerField()  # order within the entry (part of the hashed form)
    account = peewee.ForeignKeyField(Account, backref="postings", on_delete="CASCADE")
    account_id: peewee.Field[str]
    asset = peewee.ForeignKeyField(Asset, on_delete="CASCADE")
    asset_id: peewee.Field[str]
    asset_symbol = peewee.CharField(max_length=16)
    bucket = peewee.CharField(max_length=16)
    entity_type = peewee.CharField(max_length=16)
    entity_id = peewee.CharField(max_length=36)
    amount = AmountField()  # signed: positive credits the account
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("entry", "position"), True), (("entity_type", "entity_id", "id"), False))


class IdempotencyRecord(BaseModel):
    """A direct operation's answer, replayed for the same (program, operation, key) and request."""

    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, on_delete="CASCADE")
    program_id: peewee.Field[str]
    operation = peewee.CharField(max_length=32)
    idempotency_key = peewee.CharField(max_length=255)
    request_hash = peewee.CharField(max_length=64)
    response = JSONField()
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("program", "operation", "idempotency_key"), True),)


class DeferredCredit(BaseModel):
    """A credit posted to DEFERRED that becomes AVAILABLE at `matures_at`: `maturity.mature_due`
    (which nothing calls yet, D33) moves it with a MATURITY entry and records that entry here."""

    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, on_delete="CASCADE")
    program_id: peewee.Field[str]
    account = peewee.ForeignKeyField(Account, on_delete="CASCADE")  # the DEFERRED account
    account_id: peewee.Field[str]
    credit_entry_id = peewee.CharField(max_length=36)
    amount = AmountField()
    matures_at = UTCDateTimeField()
    matured_entry_id = peewee.CharField(max_length=36, null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "deferred_credit"
        indexes = ((("matured_entry_id", "matures_at"), False),)


class HeldReference(BaseModel):
    """What a HELD account still holds under one `reference_id`: the sum of the account's postings
    whose entry carries that reference. Derived from the postings, kept by `Ledger.finish` in the
    transaction that writes them, and checked by `accrual verify`. Rows at zero are removed."""

    account = peewee.ForeignKeyField(Account, on_delete="CASCADE")
    account_id: peewee.Field[str]
    reference_id = peewee.CharField(max_length=255)
    amount = AmountField()
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "held_reference"
        indexes = ((("account", "reference_id"), True),)
