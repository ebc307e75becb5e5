"""The reports page beside the playground (`/playground/reports`): liability over time, issued
against redeemed, events per day and rule match rates of the caller's organisation, as
server-rendered SVG (`playground/charts.py`), so it needs no chart library and works offline.

    GET /playground/reports               the page (no API key: it holds only the form)
    GET /playground/reports/charts?days=  the charts of the last `days` UTC days (needs an API key)

The figures are the API's own (`engine/store/reports/`): the liability and issued/redeemed series
are the daily roll-forward summed over the organisation's assets of one scale, per asset.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter

from engine.store.db import database_proxy, utcnow
from engine.store.models import Asset
from engine.store.reports.charts import events_per_day, rule_match_rates
from engine.store.reports.ledger import Scope, day_boundaries
from engine.store.reports.summary import liability_days
from playground.charts import Chart, bar_chart, line_chart
from playground.rendering import render

DAYS_MAX = 92
_NO_AUTH = "the reports need the API server and an API key"


class ReportsPageController(Controller):
    path = "/playground/reports"
    include_in_schema = False

    @get("/", sync_to_thread=False)
    def page(self) -> Response[str]:
        return render("reports.html", {})


class ReportChartsController(Controller):
    """The charts, through the API key of the app the playground is mounted in."""

    path = "/playground/reports/charts"
    include_in_schema = False
    opt: Mapping[str, Any] = {"public": False}

    @get("/", sync_to_thread=True)
    def charts(self, request: Request, days: Annotated[int, QueryParameter(ge=1, le=DAYS_MAX)] = 30) -> Response[str]:
        organisation_id = getattr(request.scope.get("auth"), "organisation_id", None)
        if organisation_id is None:
            return render("message.html", {"message": _NO_AUTH})
        with database_proxy.connection_context():
            charts = report_charts(organisation_id, utcnow(), days)
        return render("report_charts.html", {"charts": charts, "days": days})


def report_charts(organisation_id: str, now: datetime, days: int) -> list[Chart]:
    """The page's four charts over the `days` UTC days ending with today."""
    first = datetime.combine(now.date() - timedelta(days=days - 1), time(), tzinfo=UTC)
    midnights = day_boundaries(first, days)
    labels = [m.date().isoformat()[5:] for m in midnights[:-1]]  # MM-DD
    assets = list(Asset.select().where(Asset.organisation == organisation_id).order_by(Asset.symbol))
    rolled = liability_days(Scope(organisation_id), assets, first, days)
    closing: dict[str, list[Any]] = {asset.symbol: [] for asset in assets}
    issued: dict[str, list[Any]] = {}
    for day in rolled:
        closing[day.asset.symbol].append(day.figures.closing_balance)
        issued.setdefault(f"{day.asset.symbol} issued", []).append(day.figures.issued)
        issued.setdefault(f"{day.asset.symbol} redeemed", []).append(day.figures.redeemed)
    rates = rule_match_rates(organisation_id, midnights[0], midnights[-1])
    return [
        line_chart("Liability (closing balance per day)", labels, closing),
        bar_chart("Issued against redeemed", labels, issued),
        bar_chart("Events per day", labels, {"events": events_per_day(organisation_id, midnights)}),
        bar_chart(
            "Rule match rate (% of the program's events)",
            [rule.rule_name for rule in rates],
            {"match rate %": [round(rule.rate * 100, 1) for rule in rates]},
        ),
    ]
