"""The figures of the reports page beside the playground: events per day and how often each
rule matches, over days in UTC (the liability and issued/redeemed series are the roll-forward's,
`engine/store/reports/summary.py`).

    events_per_day(org_id, midnights)          # [count of day 1, ...]
    rule_match_rates(org_id, start, end)       # [RuleMatches(name, matched, events), ...]

Events are counted by id range (UUIDv7 ids carry their time) over the primary key; matches are the
rules' SUCCESS evaluations, read through their partial index, over the program's processed events.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from engine.store.db import database_proxy
from engine.store.models import RuleEvaluation, RuleRecord
from engine.store.reports.rollup import id_floor


@dataclass(frozen=True)
class RuleMatches:
    program_id: str
    rule_id: str
    rule_name: str
    matched: int
    events: int

    @property
    def rate(self) -> float:
        return self.matched / self.events if self.events else 0.0


def _rows(sql: str, params: list[object]) -> list[tuple]:
    return database_proxy.obj.execute_sql(sql.format(p=database_proxy.obj.param), params).fetchall()


def events_per_day(organisation_id: str, midnights: Sequence[datetime]) -> list[int]:
    """Events received on each day [midnights[i], midnights[i+1])."""
    return [
        int(
            _rows(
                "SELECT COUNT(*) FROM event WHERE organisation_id = {p} AND id >= {p} AND id < {p}",
                [organisation_id, id_floor(start), id_floor(end)],
            )[0][0]
        )
        for start, end in itertools.pairwise(midnights)
    ]


def rule_match_rates(organisation_id: str, start: datetime, end: datetime) -> list[RuleMatches]:
    """Every ACTIVE rule of the organisation: its matches over the program's processed events in
    [start, end), highest rate first."""
    rules = list(
        RuleRecord.select(RuleRecord.id, RuleRecord.name, RuleRecord.program).where(
            (RuleRecord.organisation == organisation_id) & (RuleRecord.status == "ACTIVE")
        )
    )
    if not rules:
        return []
    events = {
        row[0]: int(row[1])
        for row in _rows(
            "SELECT program_id, COUNT(*) FROM event WHERE organisation_id = {p} AND id >= {p} AND id < {p} "
            "AND status IN ('COMPLETED', 'FAILED') GROUP BY program_id",
            [organisation_id, id_floor(start), id_floor(end)],
        )
    }
    to_db = RuleEvaluation.created_at.db_value
    matched = {
        row[0]: int(row[1])
        for row in _rows(
            # the literal condition of the partial index `rule_evaluation_rule_success`
            "SELECT rule_id, COUNT(*) FROM rule_evaluation WHERE status = 'SUCCESS' "
            f"AND rule_id IN ({', '.join(['{p}'] * len(rules))}) AND created_at >= {{p}} AND created_at < {{p}} "
            "GROUP BY rule_id",
            [*(rule.id for rule in rules), to_db(start), to_db(end)],
        )
    }
    found = [
        RuleMatches(rule.program_id, rule.id, rule.name, matched.get(rule.id, 0), events.get(rule.program_id, 0))
        for rule in rules
    ]
    return sorted(found, key=lambda r: (-r.rate, r.rule_name))
