"""Who changed a participant's, group's or program's state, and the history rows that say so:
`Origin` (an event and rule, or an API key) and `HistoryBuffer`, the rows of one transaction
inserted in one statement. `engine.store.owner_state` writes state with them; the tier lifecycle's
sweeps record their changes with them too.

    history = HistoryBuffer()
    history.record(org_id, "PARTICIPANT", p.id, "counter", "miles", "auto_reset", "30000", "0", origin, "PERIOD_END")
    history.flush()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from engine.store import statements
from engine.store.db import new_id, utcnow
from engine.store.models import StateHistory


@dataclass(frozen=True)
class Origin:
    """Who changed state: a rule of an event, or an API key (recorded in state history)."""

    event_id: str | None = None
    rule_id: str | None = None
    api_key_id: str | None = None
    program_id: str | None = None
    at: datetime = field(default_factory=utcnow)


@dataclass
class HistoryBuffer:
    """History rows collected during one transaction and inserted in one statement."""

    rows: list[dict] = field(default_factory=list)

    def record(
        self, org_id, owner_type, owner_id, state_type, key, operation, old, new, origin: Origin, reason=None
    ) -> None:
        """`reason`: why a tier changed (A133), None for other state."""
        self.rows.append(
            {
                "id": new_id(),
                "organisation": org_id,
                "owner_type": owner_type,
                "owner_id": owner_id,
                "state_type": state_type,
                "key": key,
                "operation": operation,
                "old_value": old,
                "new_value": new,
                "program_id": origin.program_id,
                "event_id": origin.event_id,
                "rule_id": origin.rule_id,
                "changed_by_api_key_id": origin.api_key_id,
                "changed_at": origin.at,
                "reason": reason,
            }
        )

    def flush(self) -> None:
        if self.rows:
            statements.insert(StateHistory, self.rows)
            self.rows.clear()
