"""Bodies of `/v1/programs/{id}/shadow`: the shadow ruleset, its report (live against shadow, in
the backtest's shapes) and its evaluated events (A233)."""

from __future__ import annotations

from typing import Any

from api.schemas.common import Response, Timestamp
from engine.replay.difference import AssetChange, ChangedEvent, RuleChange


class ShadowOut(Response):
    """A shadow ruleset: ACTIVE (evaluated beside the live rules), or ended (CLEARED, PROMOTED)."""

    id: str
    program_id: str
    version: int  # 1, 2, ... per program
    status: str  # ACTIVE | CLEARED | PROMOTED
    rule_count: int
    created_at: Timestamp
    ended_at: Timestamp | None


class ShadowReportOut(Response):
    """Live against shadow, by rule and by asset: `before` is live, `after` the shadow.
    `events` were evaluated under the shadow of the `events_processed` the program processed while
    it was ACTIVE (an event that failed before evaluation has no shadow evaluation); `errors` the
    events the shadow could not evaluate at all, by code; `samples` the first events that differ."""

    shadow: ShadowOut
    events: int
    events_processed: int
    differing: int
    errors: int
    error_codes: dict[str, int]
    rules: list[RuleChange]
    assets: list[AssetChange]
    samples: list[ChangedEvent]


class ShadowEventOut(Response):
    """One event evaluated under the shadow: both outcomes (status, error, each listed rule with
    its applied actions), the value each would have moved per asset, and whether they differ."""

    event_id: str
    participant_id: str | None
    status: str  # the shadow's: COMPLETED | FAILED | ERROR (it could not run)
    differs: bool
    live: dict[str, Any]
    shadow: dict[str, Any]
    live_flows: dict[str, dict[str, str]]
    shadow_flows: dict[str, dict[str, str]]
    evaluated_at: Timestamp
