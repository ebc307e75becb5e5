"""How often each rule errors: the store query behind the rule error metrics and `accrual status`
(A88). A rule whose condition fails (SKIPPED_ERROR) or runs out of budget (SKIPPED_TIMEOUT) still
lets its event complete, with fewer points than meant (D9), so the rate has to be watched.

    >>> [row for row in rule_error_counts(since=utcnow() - timedelta(minutes=5)) if row.errored]
    [RuleErrorCount(program_id='...', rule_id='...', rule_name='weekend', events=120, errors=120, ...)]

Per ACTIVE rule of the programs in scope: `events`, the program's events processed (COMPLETED or
FAILED) in the window, each of which evaluated the rule or skipped it by its index or time window;
`errors` and `timeouts`, the rule's SKIPPED_ERROR and SKIPPED_TIMEOUT evaluations in the window.
Rules whose condition is false are not stored (D31), so `events` is the denominator. Both counts
read an index: events by id (UUIDv7 ids order by creation time), errors by a partial index over
the two error statuses (schema step 25), so the query costs the window, not the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.store.db import database_proxy, utcnow
from engine.store.models import RuleEvaluation, RuleRecord

ERRORED = "status IN ('SKIPPED_ERROR', 'SKIPPED_TIMEOUT')"  # word for word as the partial index says


@dataclass(frozen=True)
class RuleErrorCount:
    program_id: str
    rule_id: str
    rule_name: str
    events: int
    errors: int
    timeouts: int

    @property
    def errored(self) -> int:
        return self.errors + self.timeouts

    @property
    def error_rate(self) -> float:
        """The share of the program's events in which this rule errored (0 with no events)."""
        return self.errored / self.events if self.events else 0.0


def id_floor(moment: datetime) -> str:
    """The smallest UUIDv7 id of `moment`'s millisecond: `id >= id_floor(t)` is created at or after t."""
    millis = int(moment.timestamp() * 1000)
    text = f"{millis:012x}7000800000000000000000"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:32]}"


def rule_error_counts(
    *,
    since: datetime,
    until: datetime | None = None,
    organisation_id: str | None = None,
    program_id: str | None = None,
) -> list[RuleErrorCount]:
    """Every ACTIVE rule in scope with its error counts over [since, until) (default: until now)."""
    until = until or utcnow()
    rules = RuleRecord.select(RuleRecord.id, RuleRecord.name, RuleRecord.program).where(RuleRecord.status == "ACTIVE")
    if organisation_id is not None:
        rules = rules.where(RuleRecord.organisation == organisation_id)
    if program_id is not None:
        rules = rules.where(RuleRecord.program == program_id)
    found = list(rules.order_by(RuleRecord.program, RuleRecord.order, RuleRecord.name))
    if not found:
        return []
    events = _events_per_program(since, until, organisation_id, program_id)
    errors = _errors_per_rule(since, until)
    return [
        RuleErrorCount(
            program_id=rule.program_id,
            rule_id=rule.id,
            rule_name=rule.name,
            events=events.get(rule.program_id, 0),
            errors=errors.get((rule.id, "SKIPPED_ERROR"), 0),
            timeouts=errors.get((rule.id, "SKIPPED_TIMEOUT"), 0),
        )
        for rule in found
    ]


def _events_per_program(
    since: datetime, until: datetime, organisation_id: str | None, program_id: str | None
) -> dict[str, int]:
    mark = database_proxy.obj.param
    sql = (
        f"SELECT program_id, COUNT(*) FROM event WHERE id >= {mark} AND id < {mark} "
        "AND status IN ('COMPLETED', 'FAILED')"
    )
    params: list[object] = [id_floor(since), id_floor(until)]
    if organisation_id is not None:
        sql, params = sql + f" AND organisation_id = {mark}", [*params, organisation_id]
    if program_id is not None:
        sql, params = sql + f" AND program_id = {mark}", [*params, program_id]
    rows = database_proxy.obj.execute_sql(sql + " GROUP BY program_id", params).fetchall()
    return {row[0]: int(row[1]) for row in rows}


def _errors_per_rule(since: datetime, until: datetime) -> dict[tuple[str, str], int]:
    mark = database_proxy.obj.param
    created = "rule_evaluation.created_at"
    to_db = RuleEvaluation.created_at.db_value
    rows = database_proxy.obj.execute_sql(
        f"SELECT rule_id, status, COUNT(*) FROM rule_evaluation WHERE {ERRORED} "
        f"AND {created} >= {mark} AND {created} < {mark} AND rule_id IS NOT NULL GROUP BY rule_id, status",
        [to_db(since), to_db(until)],
    ).fetchall()
    return {(row[0], row[1]): int(row[2]) for row in rows}
