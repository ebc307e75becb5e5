"""Bodies of `/v1/reports/*`: Scrip's ledger summary and program activity, and the daily
liability roll-forward. Amounts are decimal strings at the asset's scale; money values are the
quantity times the asset's `unit_value`, exact, in its `currency`."""

from __future__ import annotations

from datetime import datetime

import msgspec

from api.schemas.common import Response


class LedgerSummaryRow(Response, omit_defaults=True):
    asset_id: str
    asset_name: str
    asset_symbol: str
    total_issued: str
    total_redeemed: str
    total_expired: str
    total_forfeited: str
    current_balance: str
    participant_count: int
    # with a period (`from` and `to`)
    opening_balance: str | None = None
    closing_balance: str | None = None
    period_issued: str | None = None
    period_redeemed: str | None = None
    period_expired: str | None = None
    period_forfeited: str | None = None
    other_adjustments_net: str | None = None
    # beyond Scrip: the liability in money, for an asset with a unit value
    unit_value: str | None = None
    currency: str | None = None
    current_value: str | None = None


class AssetActivity(Response):
    asset_id: str
    issued: str
    redeemed: str


class ProgramActivityRow(Response):
    program_id: str
    program_name: str
    event_count: int
    journal_count: int
    total_issued: str
    total_redeemed: str
    unique_participants: int
    last_activity_at: datetime | None
    asset_count: int
    reward_count: int
    rule_count: int
    tier_count: int
    assets: list[AssetActivity] = msgspec.field(default_factory=list)  # beyond Scrip: per asset


class LiabilityDayRow(Response, omit_defaults=True):
    date: str
    asset_id: str
    asset_symbol: str
    opening_balance: str
    issued: str
    redeemed: str
    expired: str
    forfeited: str
    adjusted: str
    closing_balance: str
    currency: str | None = None
    opening_value: str | None = None
    closing_value: str | None = None


class LiabilityReport(Response):
    timezone: str
    data: list[LiabilityDayRow]
