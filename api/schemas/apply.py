"""Bodies of `POST /v1/programs/apply`: a whole bundle (`engine.model.bundle.Bundle`, its `tests`
and `automation_tests` allowed and ignored) in, the plan (and whether it was applied) out."""

from __future__ import annotations

from typing import Any

import msgspec

from api.schemas.common import Request, Response
from engine.model.automation import AutomationSpec
from engine.model.bundle import Asset, Bundle, FieldType, Name, ProgramSettings, Rule, TierType
from engine.model.rewards import Reward


class BundleIn(Request):
    """A bundle as `accrual schema` describes it; its test cases are accepted and not read (they
    run on the author's side, `accrual apply --test`)."""

    program: ProgramSettings
    events: dict[Name, dict[str, FieldType]] = msgspec.field(default_factory=dict)
    assets: list[Asset] = msgspec.field(default_factory=list)
    tiers: list[TierType] = msgspec.field(default_factory=list)
    rewards: list[Reward] = msgspec.field(default_factory=list)
    rules: list[Rule] = msgspec.field(default_factory=list)
    tests: list[dict[str, Any]] = msgspec.field(default_factory=list)
    automations: list[AutomationSpec] = msgspec.field(default_factory=list)
    automation_tests: list[dict[str, Any]] = msgspec.field(default_factory=list)

    def bundle(self) -> Bundle:
        return Bundle(
            program=self.program,
            events=self.events,
            assets=self.assets,
            tiers=self.tiers,
            rewards=self.rewards,
            rules=self.rules,
            automations=self.automations,
        )


class FieldChangeOut(Response):
    field: str
    old: Any = None
    new: Any = None


class StepOut(Response):
    kind: str  # create | update | archive | link
    resource: str  # program | asset | tier | reward | rule
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
