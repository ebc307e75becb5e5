"""Tables of spending: the rewards catalog, redemptions and their reversals, transfers.

    reward      a program's catalog item; `redeemed_count` the units redeemed and not reversed
    redemption  value a participant spent (raw, or on a catalog item), with what reversals gave
                back, and the redemption target captured when it was made
    reversal    one partial or full reversal of a redemption
    transfer    value one party gave to 1-100 others in one journal entry

Each names the journal entry that moved its value; the ledger is the source of truth for
balances, these rows for what was bought and given back.
"""

from __future__ import annotations

import peewee

from engine.store.db import utcnow
from engine.store.fields import AmountField, JSONField, UTCDateTimeField
from engine.store.models.core import Asset, BaseModel, Organisation, Participant, Program, Timestamped


class RewardRecord(Timestamped):
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, backref="rewards", on_delete="CASCADE")
    program_id: peewee.Field[str]
    name = peewee.CharField(max_length=255)
    description = peewee.TextField(null=True)
    category = peewee.CharField(max_length=100, null=True)
    metadata = JSONField(null=True)
    redemption_type = peewee.CharField(max_length=16)  # UNIT_BASED | AMOUNT_BASED, immutable
    asset = peewee.ForeignKeyField(Asset, on_delete="CASCADE")  # immutable
    asset_id: peewee.Field[str]
    unit_cost = AmountField()
    max_total = peewee.IntegerField(null=True)
    max_per_participant = peewee.IntegerField(null=True)
    redeemed_count = peewee.IntegerField(default=0)
    status = peewee.CharField(max_length=16, default="DRAFT")  # DRAFT ACTIVE OUT_OF_STOCK ARCHIVED
    available_from = UTCDateTimeField(null=True)
    available_until = UTCDateTimeField(null=True)
    deleted_at = UTCDateTimeField(null=True)  # set while ARCHIVED

    class Meta:
        table_name = "reward"
        indexes = ((("program", "name"), True),)


class RedemptionRecord(Timestamped):
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, on_delete="CASCADE")
    program_id: peewee.Field[str]
    participant = peewee.ForeignKeyField(Participant, on_delete="CASCADE")
    participant_id: peewee.Field[str]
    asset = peewee.ForeignKeyField(Asset, on_delete="CASCADE")
    asset_id: peewee.Field[str]
    reward = peewee.ForeignKeyField(RewardRecord, null=True, on_delete="CASCADE")  # null: a raw redemption
    reward_id: peewee.Field[str | None]
    redemption_type = peewee.CharField(max_length=16, null=True)  # the reward's, when it was made
    amount = AmountField()
    quantity = peewee.IntegerField(null=True)
    unit_cost = AmountField(null=True)
    reversed_amount = AmountField(default=0)
    reversed_quantity = peewee.IntegerField(default=0)
    status = peewee.CharField(max_length=24, default="COMPLETED")  # COMPLETED PARTIALLY_ FULLY_REVERSED
    description = peewee.TextField(null=True)
    journal_entry_id = peewee.CharField(max_length=36)
    # where the value went, as the program said when the redemption was made: SYSTEM_REDEMPTION,
    # SYSTEM_BREAKAGE or LEDGER_ENTITY, and that entity
    target_type = peewee.CharField(max_length=32)
    target_entity_type = peewee.CharField(max_length=16)
    target_entity_id = peewee.CharField(max_length=36)
    created_by_api_key_id = peewee.CharField(max_length=36, null=True)

    class Meta:
        table_name = "redemption"
        indexes = ((("participant", "id"), False), (("reward", "participant"), False))


class ReversalRecord(BaseModel):
    redemption = peewee.ForeignKeyField(RedemptionRecord, backref="reversals", on_delete="CASCADE")
    redemption_id: peewee.Field[str]
    amount = AmountField()
    quantity = peewee.IntegerField(null=True)
    reason = peewee.TextField()
    journal_entry_id = peewee.CharField(max_length=36)
    created_by_api_key_id = peewee.CharField(max_length=36, null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "reversal"
        indexes = ((("redemption", "id"), False),)


class TransferRecord(BaseModel):
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, on_delete="CASCADE")
    program_id: peewee.Field[str]
    asset = peewee.ForeignKeyField(Asset, on_delete="CASCADE")
    asset_id: peewee.Field[str]
    source_type = peewee.CharField(max_length=16)  # PARTICIPANT (GROUP once groups exist)
    source_id = peewee.CharField(max_length=36)
    recipients = JSONField()  # [{"type", "id", "amount"}] in the order given
    recipient_count = peewee.IntegerField()
    total_amount = AmountField()
    description = peewee.TextField(null=True)
    journal_entry_id = peewee.CharField(max_length=36)
    created_by_api_key_id = peewee.CharField(max_length=36, null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "transfer"
        indexes = ((("source_id", "id"), False),)
