"""The pasted bundle's automations at a glance: when each fires next, on its zone's clock, and
its automation tests run as `accrual test` runs them (`engine.evaluator.automation_cases`).

    >>> [(row.name, row.times[0].local) for row in next_firings(loaded, now)]
    [('double_points_day_starts', '2026-04-01 00:00 BST')]

Calendar triggers (cron, one_time) list their next `SHOWN` times after now; an immediate trigger
fires once, when it is created; a participant_state trigger fires on each participant's own
schedule, which the bundle's `automation_tests` pin down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.evaluator.automations import firing_times
from engine.model.calendar import zone
from engine.rules.automations import compile_automations
from engine.rules.loader import LoadedBundle

SHOWN = 5
HORIZON = timedelta(days=3 * 366)  # a yearly trigger shows three firings


@dataclass(frozen=True)
class Firing:
    utc: str  # RFC 3339
    local: str  # on the trigger's wall clock, with the zone's abbreviation


@dataclass(frozen=True)
class AutomationRow:
    name: str
    trigger: str  # `cron 0 9 * * MON`, `one_time`, ...
    scope: str
    timezone: str
    times: list[Firing] = field(default_factory=list)
    note: str | None = None


def next_firings(loaded: LoadedBundle, now: datetime) -> list[AutomationRow]:
    """One row per automation that compiled, in the bundle's order."""
    if loaded.bundle is None:
        return []
    compiled, _ = compile_automations(loaded.bundle.automations, loaded.bundle.program.timezone)
    rows: list[AutomationRow] = []
    for automation in compiled:
        trigger = automation.spec.trigger
        described = f"{trigger.type} {trigger.cron_expression}" if trigger.cron_expression else trigger.type
        if trigger.schedule_type:
            described = f"{trigger.type} {trigger.schedule_type}"
        row = AutomationRow(automation.name, described, automation.spec.scope, automation.timezone)
        if trigger.type == "immediate":
            row = _noted(row, "fires once, when it is created")
        elif trigger.type == "participant_state":
            row = _noted(row, "fires on each participant's own schedule: see automation_tests")
        else:
            times = firing_times(automation, None, now, now + HORIZON, limit=SHOWN)
            clock = zone(automation.timezone)
            row.times.extend(
                Firing(
                    moment.isoformat().replace("+00:00", "Z"),
                    moment.astimezone(clock).strftime("%Y-%m-%d %H:%M %Z"),
                )
                for moment in times
            )
            if not times:
                row = _noted(row, "no firing ahead")
        rows.append(row)
    return rows


def _noted(row: AutomationRow, note: str) -> AutomationRow:
    return AutomationRow(row.name, row.trigger, row.scope, row.timezone, row.times, note)
