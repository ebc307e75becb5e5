"""Backtests through the API: the bundles checked before anything is stored, the run created
with its wake-up, and read back with its progress and difference."""

from __future__ import annotations

from api.errors import BadRequest
from api.schemas.backtests import BacktestError, BacktestIn, BacktestOut, BacktestProgress
from engine.rules.loader import load_bundle_text
from engine.store import backtests
from engine.store.models import BacktestRun


def _check(text: str, label: str) -> None:
    """A bundle with errors is refused whole (400 `invalid_bundle`, every error at line:column)."""
    loaded = load_bundle_text(text, filename=label)
    errors = [problem for problem in loaded.problems if problem.severity == "error"]
    if loaded.program is None or errors:
        problems = [{"line": p.line, "column": p.column, "code": p.code, "message": p.message} for p in errors[:100]]
        first = errors[0].format() if errors else f"{label}: the bundle does not load"
        raise BadRequest(
            f"the {label} bundle has errors: {first}",
            code="invalid_bundle",
            details={"bundle": label, "problems": problems},
        )


def create_backtest(organisation_id: str, program_id: str, data: BacktestIn) -> BacktestOut:
    if data.last is not None and (data.from_ is not None or data.to is not None):
        raise BadRequest("give from/to or last, not both", code="bad_request", details={"field": "last"})
    if data.from_ is not None and data.to is not None and data.to <= data.from_:
        raise BadRequest("to must be after from", code="bad_request", details={"field": "to"})
    _check(data.bundle, "candidate")
    if data.against is not None:
        _check(data.against, "baseline")
    run = backtests.create_backtest(
        organisation_id,
        program_id,
        data.bundle,
        against=data.against,
        window_from=data.from_,
        window_to=data.to,
        last=data.last,
        sample=data.sample,
    )
    return backtest_out(run)


def get_backtest(organisation_id: str, program_id: str, backtest_id: str) -> BacktestOut:
    return backtest_out(backtests.get_backtest(organisation_id, program_id, backtest_id))


def backtest_out(run: BacktestRun) -> BacktestOut:
    return BacktestOut(
        id=run.id,
        program_id=run.program_id,
        status=run.status,
        progress=BacktestProgress(done=run.done, total=run.total),
        from_=run.window_from,
        to=None if run.last is not None else run.window_to,
        last=run.last,
        baseline="CURRENT" if run.against is None else "BUNDLE",
        created_at=run.created_at,
        completed_at=run.completed_at,
        error=BacktestError(code=run.error_code, message=run.error_message or "") if run.error_code else None,
        result=run.result,
    )
