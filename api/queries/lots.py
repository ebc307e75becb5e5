"""A participant's lots of a LOT asset, and a program's value due to expire by month, as the API
serves them. Both read as of now: a lot past its expiry shows EXPIRED with nothing remaining, and
a DEFERRED lot past its maturity shows AVAILABLE, whether or not the scheduler has settled them
yet (D33)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import peewee

from api.errors import field_error
from api.pagination import Page, paginate
from api.queries.participants import get_participant_row
from api.queries.programs import amount_text, get_program_row, resolve_asset
from api.schemas.lots import ExpiryMonth, ExpirySchedule, LotOut
from engine.model.lots import LotStatus
from engine.store.db import utcnow
from engine.store.ledger.lots import to_lot
from engine.store.models import OPEN_LOTS, Asset, LotRecord

MONTHS_AHEAD = 12


def list_lots(
    org_id: str,
    participant_id: str,
    *,
    asset_id: str,
    program_id: str | None,
    status: str | None,
    expires_before: datetime | None,
    expires_after: datetime | None,
    reference_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[LotOut]:
    person = get_participant_row(org_id, participant_id)
    asset = resolve_asset(org_id, asset_id)
    if asset.inventory_mode != "LOT":
        raise field_error("asset_id", f"{asset.symbol} is a SIMPLE asset: it has no lots")
    now = utcnow()
    query = LotRecord.select().where(
        (LotRecord.entity_type == "PARTICIPANT") & (LotRecord.entity_id == person.id) & (LotRecord.asset == asset.id)
    )
    if program_id is not None:
        query = query.where(LotRecord.program == program_id)
    if status is not None:
        query = query.where(_effective(status, now))
    if expires_before is not None:
        query = query.where(LotRecord.expires_at < expires_before)
    if expires_after is not None:
        query = query.where(LotRecord.expires_at > expires_after)
    if reference_id is not None:
        query = query.where(LotRecord.reference_id == reference_id)
    return paginate(
        query,
        keys=[LotRecord.id],
        descending=False,
        limit=limit,
        cursor=cursor,
        listing="lots",
        render=lambda row: lot_out(row, asset, now),
    )


def _effective(status: str, now: datetime) -> peewee.Expression:
    """A status filter on what each lot is at `now` (see the module docstring)."""
    expired = (
        LotRecord.status.in_(["DEFERRED", "AVAILABLE", "HELD"])
        & LotRecord.expires_at.is_null(False)
        & (LotRecord.expires_at <= now)
    )
    matured = (LotRecord.status == "DEFERRED") & (LotRecord.matures_at <= now) & ~expired
    if status == "EXPIRED":
        return (LotRecord.status == "EXPIRED") | expired
    if status == "AVAILABLE":
        return ((LotRecord.status == "AVAILABLE") & ~expired) | matured
    if status == "DEFERRED":
        return (LotRecord.status == "DEFERRED") & ~expired & ~matured
    return (LotRecord.status == status) & ~expired


def lot_out(row: LotRecord, asset: Asset, now: datetime) -> LotOut:
    lot = to_lot(row)
    status, remaining = lot.status, lot.remaining
    if lot.expired_by(now):
        status, remaining = LotStatus.EXPIRED, Decimal(0)
    elif lot.matured_by(now):
        status = LotStatus.AVAILABLE
    return LotOut(
        id=row.id,
        asset_id=asset.id,
        program_id=row.program_id,
        amount=amount_text(row.amount, asset.scale),
        remaining=amount_text(remaining, asset.scale),
        status=str(status),
        reference_id=row.reference_id,
        expires_at=row.expires_at,
        matures_at=row.matures_at,
        created_at=row.created_at,
    )


def expiry_schedule(org_id: str, program_id: str, asset_id: str) -> ExpirySchedule:
    """The value of the program's lots of `asset_id` due to expire in each of the next twelve
    calendar months (UTC), this month included; value already past its expiry is in `overdue`."""
    program = get_program_row(org_id, program_id)
    asset = resolve_asset(org_id, asset_id)
    if asset.inventory_mode != "LOT":
        raise field_error("asset_id", f"{asset.symbol} is a SIMPLE asset: its value does not expire")
    now = utcnow()
    first = datetime(now.year, now.month, 1, tzinfo=UTC)
    months = [_add_months(first, n) for n in range(MONTHS_AHEAD + 1)]
    rows = LotRecord.select(LotRecord.remaining, LotRecord.expires_at).where(
        (LotRecord.program == program.id)
        & (LotRecord.asset == asset.id)
        & peewee.SQL(OPEN_LOTS)
        & LotRecord.expires_at.is_null(False)
        & (LotRecord.expires_at < months[-1])
    )
    due: dict[int, Decimal] = defaultdict(Decimal)
    overdue = Decimal(0)
    for row in rows:
        remaining, expires_at = row.remaining, row.expires_at
        if expires_at <= now:
            overdue += remaining
            continue
        index = (expires_at.year - first.year) * 12 + expires_at.month - first.month
        due[index] += remaining
    return ExpirySchedule(
        program_id=program.id,
        asset_id=asset.id,
        overdue=amount_text(overdue, asset.scale),
        months=[
            ExpiryMonth(month=months[n].strftime("%Y-%m"), amount=amount_text(due[n], asset.scale))
            for n in range(MONTHS_AHEAD)
        ],
    )


def _add_months(moment: datetime, months: int) -> datetime:
    year, month = divmod(moment.month - 1 + months, 12)
    return moment.replace(year=moment.year + year, month=month + 1)
