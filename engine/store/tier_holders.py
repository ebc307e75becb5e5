"""Who holds tier levels: participants (`participant_tier`, `tier_rollover`) and groups
(`group_tier`, `group_tier_rollover`, A257). The two pairs of tables have the same columns but
the owner's, so the lifecycle's storage (`owner_state`, `tier_sweeps`, `tier_rollovers`) takes a
`TierHolder` rather than a copy for groups:

    holder = HOLDERS[GROUP]
    holder.levels.select().where(holder.owned(holder.levels, group_id))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import peewee

from engine.store.models import (
    GROUP,
    PARTICIPANT,
    Group,
    GroupTier,
    GroupTierRollover,
    Participant,
    ParticipantTier,
    TierRollover,
)


@dataclass(frozen=True)
class TierHolder:
    """An owner type's tables of levels and of rollovers, and the column naming the owner."""

    owner_type: str  # PARTICIPANT | GROUP, as in state rows and history
    levels: Any  # ParticipantTier | GroupTier
    rollovers: Any  # TierRollover | GroupTierRollover
    owners: type[peewee.Model]  # Participant | Group: the row that is the owner's lock
    column: str  # participant_id | group_id
    field: str  # participant | group: the foreign key's field name on both tables

    def owner_id(self, row: Any) -> str:
        return getattr(row, self.column)

    def owned(self, model: Any, owner_id: str) -> Any:
        """The condition on `model` (this holder's levels or rollovers) of the owner's rows."""
        return getattr(model, self.field) == owner_id


HOLDERS = {
    PARTICIPANT: TierHolder(PARTICIPANT, ParticipantTier, TierRollover, Participant, "participant_id", "participant"),
    GROUP: TierHolder(GROUP, GroupTier, GroupTierRollover, Group, "group_id", "group"),
}
