"""Bodies of the lot routes: a participant's lots, and a program's value due to expire by month."""

from __future__ import annotations

from datetime import datetime

from api.schemas.common import Response


class LotOut(Response):
    id: str
    asset_id: str
    program_id: str | None
    amount: str
    remaining: str
    status: str  # DEFERRED | AVAILABLE | HELD | CONSUMED | EXPIRED, as of now
    reference_id: str | None
    expires_at: datetime | None
    matures_at: datetime | None
    created_at: datetime  # when the value was earned


class ExpiryMonth(Response):
    month: str  # YYYY-MM (UTC)
    amount: str


class ExpirySchedule(Response):
    program_id: str
    asset_id: str
    overdue: str  # past its expiry, not yet swept: no longer in any balance
    months: list[ExpiryMonth]
