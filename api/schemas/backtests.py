"""Bodies of `POST /v1/programs/{id}/backtests` and of the backtest resource (D36)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from api.schemas.common import Request, Response, Timestamp
from engine.model.instants import Instant

BundleText = Annotated[str, msgspec.Meta(min_length=1, max_length=500_000)]


class BacktestIn(Request):
    """A candidate bundle (YAML, as `accrual backtest` reads from a file) replayed over the
    program's recorded history; `against` is the baseline's YAML (default: the program as applied
    now). The window is `from`/`to` (`to` defaults to now) or the `last` N processed events."""

    bundle: BundleText
    against: BundleText | None = None
    from_: Instant | None = msgspec.field(default=None, name="from")
    to: Instant | None = None
    last: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] | None = None
    sample: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 20


class BacktestProgress(Response):
    done: int  # events replayed
    total: int | None  # events in the window, once the run has read it


class BacktestError(Response):
    code: str
    message: str


class BacktestOut(Response):
    """A backtest: PENDING until a worker takes it, RUNNING with its progress, then COMPLETED
    with `result` (the difference, as `accrual backtest --json` prints it) or FAILED with `error`."""

    id: str
    program_id: str
    status: str  # PENDING | RUNNING | COMPLETED | FAILED
    progress: BacktestProgress
    from_: Timestamp | None = msgspec.field(name="from")
    to: Timestamp | None
    last: int | None
    baseline: str  # CURRENT | BUNDLE
    created_at: Timestamp
    completed_at: Timestamp | None
    error: BacktestError | None
    result: dict[str, Any] | None
