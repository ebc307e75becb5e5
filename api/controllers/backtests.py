"""Backtests (D36): `POST /v1/programs/{id}/backtests` asks for one, run by a worker;
`GET /v1/programs/{id}/backtests/{backtest_id}` shows its progress and, once done, the difference."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from api.auth import Principal
from api.db import with_connection
from api.errors import responses
from api.queries.backtests import create_backtest, get_backtest
from api.schemas.backtests import BacktestIn, BacktestOut


class BacktestController(Controller):
    path = "/v1/programs/{program_id:str}/backtests"
    tags = ("backtests",)

    @post("/", status_code=202, sync_to_thread=True, summary="Backtest a bundle", responses=responses(400, 404))
    @with_connection
    def create_backtest(
        self, program_id: FromPath[str], data: JSONBody[BacktestIn], principal: NamedDependency[Principal]
    ) -> BacktestOut:
        """Replays the program's recorded events under the program as applied (or `against`) and
        under `bundle`, from each participant's state just ahead of the window, and records the
        difference; nothing else is written. Answers at once with the PENDING backtest: poll it."""
        return create_backtest(principal.organisation_id, program_id, data)

    @get("/{backtest_id:str}", sync_to_thread=True, summary="A backtest and its difference", responses=responses(404))
    @with_connection
    def get_backtest(
        self, program_id: FromPath[str], backtest_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> BacktestOut:
        """Its status and progress; once COMPLETED, `result` holds the difference: per rule, per
        asset, per participant, samples of the events that changed, and the baseline's
        reproduction check."""
        return get_backtest(principal.organisation_id, program_id, backtest_id)
