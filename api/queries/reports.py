"""The reports of `/v1/reports/*`: query parameters checked and turned into store calls
(`engine/store/reports/`), answers as Structs.

Dates and times: `from` and `to` take an RFC 3339 timestamp or a date (`2026-03-01`); both are
inclusive (a date `to` runs to the end of its day). A date is a day in the program's time zone
when the report names a program (D32), else in UTC; `timezone` names another zone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from api.errors import field_error
from api.pagination import Page, paginate
from api.queries.programs import get_program_row, resolve_asset
from api.schemas.common import parse_timestamp
from api.schemas.reports import (
    AssetActivity,
    LedgerSummaryRow,
    LiabilityDayRow,
    LiabilityReport,
    ProgramActivityRow,
)
from engine.model.calendar import time_zone_problem, zone
from engine.store.fields import canonical_decimal
from engine.store.models import Asset, Program, ProgramAsset
from engine.store.reports.activity import ProgramActivity, program_activity
from engine.store.reports.ledger import Scope
from engine.store.reports.summary import SummaryRow, at_scale, ledger_summary, liability_days, money

MAX_DAYS = 366
TIMESTAMP_OR_DATE = "RFC 3339 timestamp with offset, or a date (YYYY-MM-DD)"


def text(value: Decimal | None) -> str | None:
    return None if value is None else canonical_decimal(value)


def report_zone(org_id: str, program_id: str | None, timezone: str | None) -> tzinfo:
    if timezone is not None:
        problem = time_zone_problem(timezone)
        if problem:
            raise field_error("timezone", problem)
        return zone(timezone)
    if program_id is not None:
        return zone(get_program_row(org_id, program_id).timezone)
    return zone("UTC")


def _day(field: str, value: str) -> date | None:
    if len(value) > 64:
        raise field_error(field, f"{field} must be a date (YYYY-MM-DD) or an RFC 3339 timestamp")
    if len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise field_error(field, f"{field} must be a date (YYYY-MM-DD) or an RFC 3339 timestamp") from None


def moment(field: str, value: str | None, zone_: tzinfo, *, end: bool) -> datetime | None:
    """A `from` (start) or inclusive `to` (end: the instant just after it) as an aware datetime."""
    if value is None:
        return None
    day = _day(field, value)
    if day is not None:
        start = datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=zone_)
        return start
    parsed = parse_timestamp(field, value)
    assert parsed is not None
    return parsed + timedelta(microseconds=1) if end else parsed


def period(org_id: str, program_id: str | None, from_: str | None, to: str | None, timezone: str | None):
    """[start, end) from `from` and `to` (both or neither), or None."""
    if (from_ is None) != (to is None):
        raise field_error("from" if from_ is None else "to", "from and to are given together or not at all")
    if from_ is None:
        return None
    zone_ = report_zone(org_id, program_id, timezone)
    start, end = moment("from", from_, zone_, end=False), moment("to", to, zone_, end=True)
    assert start is not None and end is not None
    if start >= end:
        raise field_error("from", "from is after to")
    return start, end


def _assets(org_id: str, program_id: str | None):
    query = Asset.select().where(Asset.organisation == org_id)
    if program_id is not None:
        get_program_row(org_id, program_id)
        query = query.where(
            Asset.id.in_(ProgramAsset.select(ProgramAsset.asset).where(ProgramAsset.program == program_id))
        )
    return query


def summary_row(row: SummaryRow) -> LedgerSummaryRow:
    asset, total, figures = row.asset, row.total, row.period
    out = LedgerSummaryRow(
        asset_id=asset.id,
        asset_name=asset.name,
        asset_symbol=asset.symbol,
        total_issued=canonical_decimal(at_scale(total.issued, asset)),
        total_redeemed=canonical_decimal(at_scale(total.redeemed, asset)),
        total_expired=canonical_decimal(at_scale(total.expired, asset)),
        total_forfeited=canonical_decimal(at_scale(total.forfeited, asset)),
        current_balance=canonical_decimal(row.current_balance),
        participant_count=row.participant_count,
        unit_value=text(asset.unit_value),
        currency=asset.currency,
        current_value=text(money(row.current_balance, asset)),
    )
    if figures is not None:
        out.opening_balance = canonical_decimal(figures.opening_balance)
        out.closing_balance = canonical_decimal(figures.closing_balance)
        out.period_issued = canonical_decimal(figures.issued)
        out.period_redeemed = canonical_decimal(figures.redeemed)
        out.period_expired = canonical_decimal(figures.expired)
        out.period_forfeited = canonical_decimal(figures.forfeited)
        out.other_adjustments_net = canonical_decimal(figures.adjusted)
    return out


def ledger_summary_page(
    org_id: str, *, program_id: str | None, window: tuple[datetime, datetime] | None, limit: int, cursor: str | None
) -> Page[LedgerSummaryRow]:
    page = paginate(
        _assets(org_id, program_id),
        keys=[Asset.id],
        descending=False,
        limit=limit,
        cursor=cursor,
        listing="ledger-summary",
        render=lambda row: row,
    )
    rows = ledger_summary(Scope(org_id, program_id), page.data, window)
    return Page(data=[summary_row(row) for row in rows], pagination=page.pagination)


def activity_row(item: ProgramActivity) -> ProgramActivityRow:
    return ProgramActivityRow(
        program_id=item.program.id,
        program_name=item.program.name,
        event_count=item.event_count,
        journal_count=item.journal_count,
        total_issued=canonical_decimal(item.total_issued),
        total_redeemed=canonical_decimal(item.total_redeemed),
        unique_participants=item.unique_participants,
        last_activity_at=item.last_activity_at,
        asset_count=item.asset_count,
        reward_count=0,  # no rewards catalog yet (docs/decisions.md, known gaps)
        rule_count=item.rule_count,
        tier_count=item.tier_count,
        assets=[
            AssetActivity(
                asset_id=asset_id, issued=canonical_decimal(flows.issued), redeemed=canonical_decimal(flows.redeemed)
            )
            for asset_id, flows in sorted(item.flows.items())
        ],
    )


def program_activity_page(
    org_id: str,
    *,
    window: tuple[datetime, datetime] | None,
    since: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page[ProgramActivityRow]:
    page = paginate(
        Program.select().where(Program.organisation == org_id),
        keys=[Program.id],
        descending=False,
        limit=limit,
        cursor=cursor,
        listing="program-activity",
        render=lambda row: row,
    )
    start, end = window if window is not None else (None, None)
    found = program_activity(org_id, page.data, start=start, end=end, since=since)
    return Page(data=[activity_row(item) for item in found], pagination=page.pagination)


def liability_report(
    org_id: str,
    *,
    program_id: str | None,
    asset_id: str | None,
    from_: str,
    to: str,
    timezone: str | None,
) -> LiabilityReport:
    """Each asset's roll-forward, one row per asset and day from `from` to `to` (dates, inclusive)."""
    zone_ = report_zone(org_id, program_id, timezone)
    first, last = _day("from", from_), _day("to", to)
    if first is None or last is None:
        raise field_error("from" if first is None else "to", "the roll-forward takes dates (YYYY-MM-DD)")
    days = (last - first).days + 1
    if not 1 <= days <= MAX_DAYS:
        raise field_error("to", f"the range must be 1 to {MAX_DAYS} days, from before to")
    assets = list(_assets(org_id, program_id).order_by(Asset.symbol))
    if asset_id is not None:
        wanted = resolve_asset(org_id, asset_id)
        assets = [asset for asset in assets if asset.id == wanted.id]
    found = liability_days(Scope(org_id, program_id), assets, datetime.combine(first, time(), tzinfo=zone_), days)
    rows = []
    for item in found:
        figures, asset = item.figures, item.asset
        rows.append(
            LiabilityDayRow(
                date=item.day,
                asset_id=asset.id,
                asset_symbol=asset.symbol,
                opening_balance=canonical_decimal(figures.opening_balance),
                issued=canonical_decimal(figures.issued),
                redeemed=canonical_decimal(figures.redeemed),
                expired=canonical_decimal(figures.expired),
                forfeited=canonical_decimal(figures.forfeited),
                adjusted=canonical_decimal(figures.adjusted),
                closing_balance=canonical_decimal(figures.closing_balance),
                currency=asset.currency,
                opening_value=text(money(figures.opening_balance, asset)),
                closing_value=text(money(figures.closing_balance, asset)),
            )
        )
    return LiabilityReport(timezone=str(zone_), data=rows)
