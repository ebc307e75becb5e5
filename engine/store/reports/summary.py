"""The finance reports of one organisation, from the ledger: the ledger summary per asset (Scrip's
fields) and the daily liability roll-forward (A185, A186, A188).

    ledger_summary(Scope(org), assets, period=(start, end))
    liability_days(Scope(org), assets, first_midnight, days=31)

Figures are exact decimals at the asset's scale; a money value is the quantity times the asset's
`unit_value`, exact (no rounding), in its `currency`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.store.db import database_proxy
from engine.store.models import Asset
from engine.store.reports.flows import Flows
from engine.store.reports.ledger import Scope, day_boundaries, flows_in

ZERO = Decimal(0)


def at_scale(value: Decimal, asset: Asset) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-asset.scale))


def money(value: Decimal, asset: Asset) -> Decimal | None:
    return None if asset.unit_value is None else value * asset.unit_value


@dataclass(frozen=True)
class PeriodFigures:
    opening_balance: Decimal
    closing_balance: Decimal
    issued: Decimal
    redeemed: Decimal
    expired: Decimal
    forfeited: Decimal
    adjusted: Decimal


@dataclass(frozen=True)
class SummaryRow:
    asset: Asset
    total: Flows
    current_balance: Decimal
    participant_count: int
    period: PeriodFigures | None


def figures(opening: Decimal, flows: Flows, asset: Asset) -> PeriodFigures:
    return PeriodFigures(
        opening_balance=at_scale(opening, asset),
        closing_balance=at_scale(opening + flows.net, asset),
        issued=at_scale(flows.issued, asset),
        redeemed=at_scale(flows.redeemed, asset),
        expired=at_scale(flows.expired, asset),
        forfeited=at_scale(flows.forfeited, asset),
        adjusted=at_scale(flows.adjusted, asset),
    )


def ledger_summary(
    scope: Scope, assets: Sequence[Asset], period: tuple[datetime, datetime] | None = None
) -> list[SummaryRow]:
    """One row per asset: all-time totals and the current balance; with `period` [start, end), the
    opening and closing balances and the period's flows too."""
    if period is None:
        (total_flows,) = flows_in(scope, [None, None])
        before, during = None, None
    else:
        before, during, after = flows_in(scope, [None, period[0], period[1], None])
        total_flows = _sum_of(before, during, after)
    holders = participant_counts(scope, [asset.id for asset in assets])
    rows = []
    for asset in assets:
        total = total_flows.get(asset.id, Flows())
        row_period = None
        if before is not None and during is not None:
            row_period = figures(before.get(asset.id, Flows()).net, during.get(asset.id, Flows()), asset)
        rows.append(
            SummaryRow(
                asset=asset,
                total=total,
                current_balance=at_scale(total.net, asset),
                participant_count=holders.get(asset.id, 0),
                period=row_period,
            )
        )
    return rows


def _sum_of(*parts: dict[str, Flows]) -> dict[str, Flows]:
    total: dict[str, Flows] = {}
    for part in parts:
        for asset_id, flows in part.items():
            total.setdefault(asset_id, Flows()).merge(flows)
    return total


@dataclass(frozen=True)
class LiabilityDay:
    day: str  # YYYY-MM-DD in the report's zone
    asset: Asset
    figures: PeriodFigures


def liability_days(scope: Scope, assets: Sequence[Asset], first_midnight: datetime, days: int) -> list[LiabilityDay]:
    """Each asset's roll-forward for `days` days from `first_midnight` (aware, in the report's zone):
    each day's closing balance is the next day's opening balance."""
    midnights = day_boundaries(first_midnight, days)
    intervals = flows_in(scope, [None, *midnights])
    opening = {asset.id: intervals[0].get(asset.id, Flows()).net for asset in assets}
    result = []
    for index in range(days):
        day_flows = intervals[index + 1]
        label = midnights[index].astimezone(first_midnight.tzinfo).date().isoformat()
        for asset in assets:
            flows = day_flows.get(asset.id, Flows())
            result.append(LiabilityDay(label, asset, figures(opening[asset.id], flows, asset)))
            opening[asset.id] += flows.net
    return result


def participant_counts(scope: Scope, asset_ids: Sequence[str]) -> dict[str, int]:
    """Per asset, the participants holding a non-zero amount of it now (any bucket); with a
    program, its enrolled participants."""
    if not asset_ids:
        return {}
    mark = database_proxy.obj.param
    sql = (
        "SELECT asset_id, COUNT(DISTINCT entity_id) FROM account WHERE organisation_id = {p} "
        "AND entity_type = 'PARTICIPANT' AND CAST(balance AS REAL) <> 0 "
        f"AND asset_id IN ({', '.join(['{p}'] * len(asset_ids))})"
    )
    params: list[object] = [scope.organisation_id, *asset_ids]
    if scope.program_id is not None:
        sql += " AND entity_id IN (SELECT participant_id FROM enrolment WHERE program_id = {p})"
        params.append(scope.program_id)
    rows = database_proxy.obj.execute_sql(sql.format(p=mark) + " GROUP BY asset_id", params).fetchall()
    return {row[0]: int(row[1]) for row in rows}
