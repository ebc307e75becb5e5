"""The top of the result pane: what the event did at a glance (matched rules, credits and debits
per asset, balances before -> after), and rule statuses in the API's words (D31).

    >>> api_status("MATCHED")
    ('SUCCESS', None)
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import msgspec

from engine.model.result import API_RULE_STATUS, EvaluationResult, RuleStatus
from engine.model.state import EntityState

# NOT_MATCHED rules are not listed by the API; the playground shows them under this word.
NOT_LISTED = ("NOT_MATCHED", "not listed by the API")


class Movement(msgspec.Struct, frozen=True, kw_only=True):
    asset: str
    credited: Decimal
    debited: Decimal


class BalanceChange(msgspec.Struct, frozen=True, kw_only=True):
    who: str  # participant | recipient
    asset: str
    before: Decimal
    after: Decimal


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    matched: list[str]
    errored: list[str]  # SKIPPED_ERROR and SKIPPED_TIMEOUT: rules the author almost certainly wants to look at
    movements: list[Movement]
    balances: list[BalanceChange]


def api_status(status: str) -> tuple[str, str | None]:
    """A rule status as `GET /v1/events/{id}` reports it, with its reason."""
    return API_RULE_STATUS.get(status, NOT_LISTED)


def summarize(
    result: EvaluationResult,
    before: EntityState,
    recipient_before: EntityState | None = None,
) -> Summary:
    """What the result pane's summary line shows."""
    credited: dict[str, Decimal] = defaultdict(Decimal)
    debited: dict[str, Decimal] = defaultdict(Decimal)
    for action in result.actions:
        if action.status != "APPLIED" or action.asset is None or action.amount is None:
            continue
        if action.type == "CREDIT":
            credited[action.asset] += action.amount
        elif action.type == "DEBIT":
            debited[action.asset] += action.amount
    assets = sorted(set(credited) | set(debited))
    balances = _balance_changes("participant", before, result.participant_after())
    if recipient_before is not None and result.recipient is not None:
        balances += _balance_changes("recipient", recipient_before, result.recipient)
    return Summary(
        matched=[o.rule for o in result.rules if o.status == RuleStatus.MATCHED],
        errored=[o.rule for o in result.rules if o.status in (RuleStatus.SKIPPED_ERROR, RuleStatus.SKIPPED_TIMEOUT)],
        movements=[Movement(asset=a, credited=credited[a], debited=debited[a]) for a in assets],
        balances=balances,
    )


def _balance_changes(who: str, before: EntityState, after: EntityState) -> list[BalanceChange]:
    changes = []
    for asset in sorted(set(before.balances) | set(after.balances)):
        old = before.balances[asset].available if asset in before.balances else Decimal(0)
        new = after.balances[asset].available if asset in after.balances else Decimal(0)
        if old != new:
            changes.append(BalanceChange(who=who, asset=asset, before=old, after=new))
    return changes
