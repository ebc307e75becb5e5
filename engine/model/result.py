"""What evaluating one event produced: per-rule outcomes, resolved actions, state changes.

The pure engine returns an `EvaluationResult`; storage posts it in one transaction
(`post_event_effects`), the API explains it, the playground and `accrual test` show it.
Encoding a result with msgspec gives the same bytes for the same inputs.

Rule statuses (richer than the API's vocabulary, D31 maps them):

    MATCHED              condition true, actions ran                  -> SUCCESS
    NOT_MATCHED          condition false                              -> (not listed)
    SKIPPED_ERROR        condition or amount raised a dsl error       -> SKIPPED_ERROR
    SKIPPED_TIMEOUT      evaluation cost budget exhausted (D10)       -> SKIPPED_TIMEOUT
    OUTSIDE_TIME_WINDOW  received_at outside active_from/active_to    -> SKIPPED, reason OUTSIDE_TIME_WINDOW
    STOPPED              an earlier rule had stop_after_match         -> SKIPPED, reason STOPPED_BY_RULE
    BUDGET_EXCEEDED      matched, but its credit did not fit (D21)    -> SKIPPED, reason BUDGET_EXCEEDED
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from engine.model.state import EntityState, GroupState, ProgramState
from engine.model.vocabulary import ActionStatus, EventStatus


class RuleStatus(enum.StrEnum):
    MATCHED = "MATCHED"
    NOT_MATCHED = "NOT_MATCHED"
    SKIPPED_ERROR = "SKIPPED_ERROR"
    SKIPPED_TIMEOUT = "SKIPPED_TIMEOUT"
    OUTSIDE_TIME_WINDOW = "OUTSIDE_TIME_WINDOW"
    STOPPED = "STOPPED"
    BUDGET_EXCEEDED = "BUDGET_EXCEEDED"


# D31: a listed rule's status in the API, with its reason (NOT_MATCHED rules are not listed).
API_RULE_STATUS: dict[str, tuple[str, str | None]] = {
    RuleStatus.MATCHED: ("SUCCESS", None),
    RuleStatus.SKIPPED_ERROR: ("SKIPPED_ERROR", None),
    RuleStatus.SKIPPED_TIMEOUT: ("SKIPPED_TIMEOUT", None),
    RuleStatus.OUTSIDE_TIME_WINDOW: ("SKIPPED", "OUTSIDE_TIME_WINDOW"),
    RuleStatus.STOPPED: ("SKIPPED", "STOPPED_BY_RULE"),
    RuleStatus.BUDGET_EXCEEDED: ("SKIPPED", "BUDGET_EXCEEDED"),
}


class TraceStep(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The value (or error) of one sub-expression; `start`/`end` are offsets into the source."""

    start: int
    end: int
    text: str
    value: Any = None
    error: str | None = None


class ResolvedTarget(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Who an action applies to.

    `role` is "participant" or "recipient" when the target is one of the entities whose state the
    engine was given (its working copy is updated); otherwise `id` / `external_id` name another
    participant (or group) that storage resolves, or `type` is PROGRAM.
    """

    type: str  # PARTICIPANT | PROGRAM | GROUP
    role: str | None = None
    id: str | None = None
    external_id: str | None = None


class ResolvedAction(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One action of a matched rule with every expression evaluated."""

    rule: str
    index: int  # position in the rule's `actions`
    type: str  # CREDIT | DEBIT | HOLD | RELEASE | FORFEIT | VOID_HOLD | TAG | UNTAG | COUNTER | ...
    target: ResolvedTarget
    status: ActionStatus = ActionStatus.APPLIED
    asset: str | None = None  # asset symbol
    amount: Decimal | None = None
    bucket: str | None = None
    allow_negative: bool = False
    reference_id: str | None = None
    description: str | None = None
    expires_at: datetime | None = None
    matures_at: datetime | None = None
    tag: str | None = None
    key: str | None = None
    value: str | None = None  # counter increment (decimal string) or attribute value
    reset_after: str | None = None
    tier: str | None = None
    level: str | None = None
    event_name: str | None = None
    delay: str | None = None
    payload: dict[str, Any] | None = None


class StateChange(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One entry of state history (Scrip's vocabulary: state_type tag|counter|attribute|tier,
    operation add|remove|set|delete|auto_reset)."""

    target: ResolvedTarget
    state_type: str
    key: str
    operation: str
    old_value: str | None = None
    new_value: str | None = None
    rule: str | None = None
    expires_at: datetime | None = None  # a tier level's, from SET_TIER (A137)


class SettledLot(msgspec.Struct, kw_only=True):
    """A lot the evaluation time expired (its value left for breakage) or matured (DEFERRED to
    AVAILABLE), before the rules ran."""

    role: str  # participant | recipient
    asset: str
    lot_id: str
    kind: str  # EXPIRED | MATURED
    amount: Decimal


class BudgetUse(msgspec.Struct, kw_only=True, omit_defaults=True):
    rule: str
    asset: str
    amount: Decimal
    per: str = "program"  # program | participant (the event participant's own budget, D37)


class RuleOutcome(msgspec.Struct, kw_only=True, omit_defaults=True, frozen=True):
    """How one rule fared. Frozen: the outcomes of rules that were not evaluated (NOT_MATCHED by
    the index, OUTSIDE_TIME_WINDOW, STOPPED) are made once per compiled rule and shared between
    results, which keeps listing 1,000 rules cheap. Treat `actions` as read-only too."""

    rule: str  # rule name (unique in a program)
    order: int
    status: RuleStatus
    rule_id: str | None = None  # set when the program was compiled from stored rules
    rule_version: int | None = None
    error: str | None = None
    error_code: str | None = None
    stopped_by: str | None = None  # name of the rule whose stop_after_match stopped this one
    actions: list[ResolvedAction] = msgspec.field(default_factory=list)
    trace: list[TraceStep] | None = None


class EvaluationResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Everything one event did, in order. `status` is FAILED when an action failed: then, as D14
    says, nothing of the event is written except the failure (`error_code`, `error_message`)."""

    status: EventStatus  # COMPLETED | FAILED
    evaluated_at: datetime  # the event's received_at; the engine reads no clock
    rules: list[RuleOutcome]
    actions: list[ResolvedAction]  # every APPLIED action, in execution order
    state_changes: list[StateChange]
    budget_uses: list[BudgetUse]
    participant: EntityState | None  # None for an event of no participant (A220)
    program: ProgramState
    recipient: EntityState | None = None
    group: GroupState | None = None  # the group the event names, after the event (A255)
    settled: list[SettledLot] = msgspec.field(default_factory=list)  # lots expired or matured
    error_code: str | None = None
    error_message: str | None = None

    def participant_after(self) -> EntityState:
        """The participant after the event, for callers that gave one (test cases, the
        playground); a program's own event has none."""
        if self.participant is None:
            raise ValueError("the event has no participant")
        return self.participant
