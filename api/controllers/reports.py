"""`/v1/reports`: the ledger summary and program activity (Scrip's), and the daily liability
roll-forward; each as JSON, or CSV with `Accept: text/csv` or `?format=csv` (`api/csv_export.py`).
Every figure is computed from the ledger (`engine/store/reports/`)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar import Response as HttpResponse
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.auth import Principal
from api.csv_export import Format, csv_response, wants_csv
from api.db import with_connection
from api.errors import responses
from api.pagination import LIMIT_DEFAULT, CursorParam, IdFilter, LimitParam, Page
from api.queries.reports import (
    TIMESTAMP_OR_DATE,
    ledger_summary_page,
    liability_report,
    period,
    program_activity_page,
)
from api.schemas.common import TIMESTAMP_HELP, parse_timestamp
from api.schemas.reports import LedgerSummaryRow, LiabilityDayRow, LiabilityReport, ProgramActivityRow

Moment = Annotated[str | None, QueryParameter(description=TIMESTAMP_OR_DATE, max_length=64)]
Day = Annotated[str, QueryParameter(description="A date (YYYY-MM-DD), inclusive", max_length=10)]
FormatParam = Annotated[Format | None, QueryParameter(name="format", description="json (default) or csv")]
ZoneParam = Annotated[str | None, QueryParameter(description="IANA time zone of dates", max_length=64)]


class ReportController(Controller):
    path = "/v1/reports"
    tags = ("reports",)

    @get("/ledger-summary", sync_to_thread=True, summary="Ledger summary per asset", responses=responses(404))
    @with_connection
    def ledger_summary(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        program_id: IdFilter = None,
        from_: Annotated[str | None, QueryParameter(name="from", description=TIMESTAMP_OR_DATE)] = None,
        to: Moment = None,
        timezone: ZoneParam = None,
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        format_: FormatParam = None,
    ) -> HttpResponse[Page[LedgerSummaryRow]]:
        """All-time totals and the current balance of every asset (linked to `program_id` when
        given); with `from` and `to` (both inclusive), the period's opening and closing balances
        and flows. With a `unit_value`, the liability in money too. JSON, or CSV with
        `Accept: text/csv` or `?format=csv`."""
        window = period(principal.organisation_id, program_id, from_, to, timezone)
        page = ledger_summary_page(
            principal.organisation_id, program_id=program_id, window=window, limit=limit, cursor=cursor
        )
        if wants_csv(request, format_):
            return csv_response(page.data, LedgerSummaryRow, "ledger-summary")  # type: ignore[return-value]
        return HttpResponse(page)

    @get("/program-activity", sync_to_thread=True, summary="Activity per program")
    @with_connection
    def program_activity(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        since: Annotated[str | None, QueryParameter(description=TIMESTAMP_HELP, max_length=64)] = None,
        from_: Annotated[str | None, QueryParameter(name="from", description=TIMESTAMP_OR_DATE)] = None,
        to: Moment = None,
        timezone: ZoneParam = None,
        limit: LimitParam = LIMIT_DEFAULT,
        cursor: CursorParam = None,
        format_: FormatParam = None,
    ) -> HttpResponse[Page[ProgramActivityRow]]:
        """Programs with an event or a journal entry in the window (`from`, `to`; all time without
        them); `since` keeps those active since then. JSON, or CSV with `Accept: text/csv` or `?format=csv`."""
        window = period(principal.organisation_id, None, from_, to, timezone)
        page = program_activity_page(
            principal.organisation_id,
            window=window,
            since=parse_timestamp("since", since),
            limit=limit,
            cursor=cursor,
        )
        if wants_csv(request, format_):
            return csv_response(page.data, ProgramActivityRow, "program-activity")  # type: ignore[return-value]
        return HttpResponse(page)

    @get("/liability", sync_to_thread=True, summary="Daily liability roll-forward", responses=responses(404))
    @with_connection
    def liability(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        from_: Annotated[str, QueryParameter(name="from", description="A date (YYYY-MM-DD)")],
        to: Day,
        program_id: IdFilter = None,
        asset_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        timezone: ZoneParam = None,
        format_: FormatParam = None,
    ) -> HttpResponse[LiabilityReport]:
        """Per asset and day (at most 366): opening balance, issued, redeemed, expired, forfeited,
        adjusted, closing balance; each day's closing balance is the next day's opening. Days are
        in `timezone`, else the program's zone, else UTC. JSON, or CSV with `Accept: text/csv` or `?format=csv`."""
        report = liability_report(
            principal.organisation_id, program_id=program_id, asset_id=asset_id, from_=from_, to=to, timezone=timezone
        )
        if wants_csv(request, format_):
            return csv_response(report.data, LiabilityDayRow, "liability")  # type: ignore[return-value]
        return HttpResponse(report)
