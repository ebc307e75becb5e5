"""A group's tier levels and the rollover schedule of a group without a level: siblings of
`participant_tier` and `tier_rollover` with the group in place of the participant (schema step
61). The columns a lifecycle schedules are the same (`TierLevelColumns`, `RolloverColumns`), so
`engine.store.tier_holders` serves both tables with the owner as a parameter."""

from __future__ import annotations

import peewee

from engine.store.models.core import Group, RolloverColumns, TierLevelColumns


class GroupTier(TierLevelColumns):
    """A group's level in one tier type (exactly one per tier type), scheduled as a participant's;
    `due_at` is under the partial index `group_tier_due`."""

    group = peewee.ForeignKeyField(Group, backref="tiers", on_delete="CASCADE")
    group_id: peewee.Field[str]

    class Meta:
        table_name = "group_tier"
        indexes = ((("group", "tier_type"), True), (("program", "tier_key"), False))


class GroupTierRollover(RolloverColumns):
    """The rollover schedule of a group holding no level of a tier type, as `TierRollover` is a
    participant's."""

    group = peewee.ForeignKeyField(Group, on_delete="CASCADE")
    group_id: peewee.Field[str]

    class Meta:
        table_name = "group_tier_rollover"
        indexes = ((("group", "tier_type"), True),)
