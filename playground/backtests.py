"""The Backtest panel: the bundle in the editor replayed over a stored program's recorded events,
through the same backtest runs the API serves (D36), and the difference shown with a chart of the
value credited per day under each ruleset.

    POST /playground/backtests          ask for a run (form: bundle, id = the stored program, last)
    GET  /playground/backtests/{id}     its progress, polled by the page, then its difference

Both need the API key of the app the playground is mounted in, as stored programs do: the key's
organisation owns the program and the run. A worker replays the history (`run_backtest`), so the
request only stores the run and its wake-up; nothing but the run's row is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter, URLEncodedBody

from engine.rules.loader import load_bundle_text
from engine.store import backtests
from engine.store.db import database_proxy
from engine.store.errors import NotFound
from engine.store.models import BacktestRun
from playground.charts import Chart, line_chart
from playground.dryrun import is_single_rule
from playground.rendering import render

LAST_DEFAULT, LAST_MAX = 1_000, 100_000  # events replayed: the playground waits for the answer
PARTICIPANTS_SHOWN = 10
_NO_AUTH = "a backtest needs the API server and an API key (then choose a stored program)"


class BacktestForm(msgspec.Struct, kw_only=True):
    bundle: str = ""
    program_id: str = msgspec.field(default="", name="id")  # the stored-program picker's field
    last: str = str(LAST_DEFAULT)


class BacktestController(Controller):
    path = "/playground/backtests"
    include_in_schema = False
    opt: Mapping[str, Any] = {"public": False}  # the app's API-key check applies here

    @post("/", sync_to_thread=True, status_code=200)
    def create(self, request: Request, data: URLEncodedBody[BacktestForm]) -> Response[str]:
        organisation_id = getattr(request.scope.get("auth"), "organisation_id", None)
        if organisation_id is None:
            return _message(_NO_AUTH)
        refused = _refusal(data)
        if refused is not None:
            return _message(refused)
        with database_proxy.connection_context():
            try:
                run = backtests.create_backtest(
                    organisation_id, data.program_id, data.bundle.replace("\r\n", "\n"), last=int(data.last)
                )
            except NotFound as exc:
                return _message(exc.message)
        return render("backtest.html", backtest_context(run))

    @get("/{backtest_id:str}", sync_to_thread=True)
    def show(
        self,
        request: Request,
        backtest_id: FromPath[str],
        program_id: Annotated[str, QueryParameter(name="program")],
    ) -> Response[str]:
        organisation_id = getattr(request.scope.get("auth"), "organisation_id", None)
        if organisation_id is None:
            return _message(_NO_AUTH)
        with database_proxy.connection_context():
            try:
                run = backtests.get_backtest(organisation_id, program_id, backtest_id)
            except NotFound as exc:
                return _message(exc.message)
        return render("backtest.html", backtest_context(run))


def _message(text: str) -> Response[str]:
    return render("backtest.html", {"run": None, "message": text, "charts": [], "days": 0})


def _refusal(data: BacktestForm) -> str | None:
    """Why the form cannot be run, in the words the panel shows; None when it can."""
    if not data.program_id:
        return "choose a stored program to replay (Stored programs, with an API key)"
    if not data.last.isdigit() or not 1 <= int(data.last) <= LAST_MAX:
        return f"the number of events to replay is a whole number from 1 to {LAST_MAX:,}"
    text = data.bundle.replace("\r\n", "\n")
    if not text.strip() or is_single_rule(text):
        return "a backtest replays a whole bundle: paste one with its assets and rules"
    errors = [problem for problem in load_bundle_text(text, filename="bundle").problems if problem.severity == "error"]
    if errors:
        return f"the bundle has {len(errors)} error(s), marked in the editor; the first: {errors[0].format()}"
    return None


def backtest_context(run: BacktestRun) -> dict[str, Any]:
    """What `backtest.html` renders for a run: its progress while it is PENDING or RUNNING, its
    error once FAILED, and once COMPLETED its difference with one chart per asset."""
    result = run.result if run.status == "COMPLETED" else None
    assets = result["assets"] if result else []
    return {
        "run": run,
        "message": None,
        "result": result,
        "charts": daily_charts(assets),
        "days": max((len(asset.get("daily") or []) for asset in assets), default=0),
        "participants": result["participant_changes"][:PARTICIPANTS_SHOWN] if result else [],
    }


def daily_charts(assets: list[dict[str, Any]]) -> list[Chart]:
    """Per asset that either ruleset credited: the value credited per day, before and after."""
    charts = []
    for asset in assets:
        days = asset.get("daily") or []
        if not days:
            continue
        labels = [day["day"][5:] for day in days]  # MM-DD
        series = {
            "before": [Decimal(str(day["before"])) for day in days],
            "after": [Decimal(str(day["after"])) for day in days],
        }
        charts.append(line_chart(f"{asset['asset']} credited per day", labels, series))
    return charts
