"""A group's tier levels and the rollover schedule of a group without a level: siblings of
`participant_tier` and `tier_rollover` with the group in place of the participant (schema step
61). The columns a lifecycle schedules are the same, so `engine.store.tier_holders` serves both
tables with the owner as a parameter."""

from __future__ import annotations

import peewee

from engine.store.db import utcnow
from engine.store.fields import UTCDateTimeField
from engine.store.models.core import BaseModel, Group, Organisation, Program, TierTypeRecord


class GroupTier(BaseModel):
    """A group's level in one tier type (exactly one per tier type), scheduled as a participant's
    (`ParticipantTier`): `due_at` is the earliest of `expires_at`, `period_ends_at` and
    `review_at`, under the partial index `group_tier_due`."""

    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    group = peewee.ForeignKeyField(Group, backref="tiers", on_delete="CASCADE")
    group_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, on_delete="CASCADE")
    program_id: peewee.Field[str]
    tier_type = peewee.ForeignKeyField(TierTypeRecord, on_delete="CASCADE")
    tier_type_id: peewee.Field[str]
    tier_key = peewee.CharField(max_length=100)
    level = peewee.CharField(max_length=100)
    rank = peewee.IntegerField()
    acquired_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField(null=True)
    period_ends_at = UTCDateTimeField(null=True)
    review_at = UTCDateTimeField(null=True)
    downgrade_to = peewee.CharField(max_length=100, null=True)
    pending_drop = peewee.BooleanField(default=False)
    due_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "group_tier"
        indexes = ((("group", "tier_type"), True), (("program", "tier_key"), False))


class GroupTierRollover(BaseModel):
    """The next period end at which a group holding no level of a tier type has its qualifying
    counters rolled over, as `TierRollover` is a participant's."""

    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    group = peewee.ForeignKeyField(Group, on_delete="CASCADE")
    group_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, on_delete="CASCADE")
    program_id: peewee.Field[str]
    tier_type = peewee.ForeignKeyField(TierTypeRecord, on_delete="CASCADE")
    tier_type_id: peewee.Field[str]
    tier_key = peewee.CharField(max_length=100)
    period_ends_at = UTCDateTimeField(index=True)

    class Meta:
        table_name = "group_tier_rollover"
        indexes = ((("group", "tier_type"), True),)
