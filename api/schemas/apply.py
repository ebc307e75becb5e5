"""Bodies of `POST /v1/programs/apply`: a whole bundle in, the plan (and whether it was applied) out."""

from __future__ import annotations

from typing import Any

from api.schemas.common import Request, Response
from engine.model.bundle import Bundle


class ApplyRequest(Request):
    """Example: `{"bundle": {"program": {"key": "coffee", "name": "Coffee"}, "assets": [...],
    "rules": [...]}, "dry_run": true}`. The bundle's `tests` are allowed and ignored."""

    bundle: Bundle
    dry_run: bool = False


class FieldChangeOut(Response):
    field: str
    old: Any = None
    new: Any = None


class StepOut(Response):
    kind: str  # create | update | archive | link
    resource: str  # program | asset | tier | rule
    name: str
    description: str  # "update rule weekend_double (actions, description)"
    changes: list[FieldChangeOut]
    note: str | None = None


class ApplyOut(Response):
    program_key: str
    program_id: str | None  # null on a dry run that would create the program
    applied: bool  # true when the steps were applied (all of them: the apply is one transaction)
    steps: list[StepOut]
    problems: list[str]  # differences the apply reports and does not change (A27)
