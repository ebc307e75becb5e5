"""Tables of LOT assets (D34): each credit of a LOT asset is a lot, and every move of value out of
or back into a lot is recorded with the journal entry that made it.

    lot        one credit's value: amount, remaining, status (the bucket it sits in, or CONSUMED /
               EXPIRED), dates, reference; held in the holder's account of that asset
    lot_take   value one journal entry took from a lot (or gave back to it): what a reversal
               restores, most recent first, and what `accrual verify` checks expiry against

A lot's holder is written as the account key is (`entity_type`, `entity_id`, `program_scope`), so
the lots of one account are one index range. For each of the holder's buckets of the asset, the
open lots' remaining amounts add up to the account's balance, or to zero while it is negative.
"""

from __future__ import annotations

import peewee

from engine.store.db import utcnow
from engine.store.fields import AmountField, UTCDateTimeField
from engine.store.models.core import Asset, BaseModel, Organisation, Program

OPEN_LOTS = "status IN ('DEFERRED', 'AVAILABLE', 'HELD')"


class LotRecord(BaseModel):
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, null=True, on_delete="CASCADE")  # the program it was earned in
    program_id: peewee.Field[str | None]
    asset = peewee.ForeignKeyField(Asset, on_delete="CASCADE")
    asset_id: peewee.Field[str]
    entity_type = peewee.CharField(max_length=16)
    entity_id = peewee.CharField(max_length=36)
    program_scope = peewee.CharField(max_length=36, default="")
    amount = AmountField()
    remaining = AmountField()
    status = peewee.CharField(max_length=16)
    reference_id = peewee.CharField(max_length=255, null=True)
    provisional = peewee.BooleanField(default=False)
    expires_at = UTCDateTimeField(null=True)
    matures_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)  # when the value was earned
    source_lot_id = peewee.CharField(max_length=36, null=True)  # split from this lot by a hold or release
    credit_entry_id = peewee.CharField(max_length=36, null=True)  # the entry that made the value
    expired_entry_id = peewee.CharField(max_length=36, null=True)
    expired_amount = AmountField(null=True)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "lot"
        indexes = ((("entity_type", "entity_id", "program_scope", "asset", "status"), False),)


class LotTake(BaseModel):
    """`amount` of lot `lot_id` moved by journal entry `entry_id`: negative when value left the lot
    (spent, held, released, voided, expired), positive when it came back (restored)."""

    lot = peewee.ForeignKeyField(LotRecord, on_delete="CASCADE")
    lot_id: peewee.Field[str]
    entry_id = peewee.CharField(max_length=36)
    position = peewee.SmallIntegerField()  # the order within the entry
    amount = AmountField()
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "lot_take"
        indexes = ((("entry_id", "position"), False),)
