"""The words every layer shares: kinds of action, the statuses of an event and of a participant,
and which actions an inactive participant refuses. One table each, so the evaluator, storage, the
API and the playground cannot disagree.

    >>> "VOID_HOLD" in BALANCE_ACTIONS, "VOID_HOLD" in BLOCKED_WHEN_INACTIVE
    (True, False)
"""

from __future__ import annotations

import enum

# Actions that move value: each applied one is a journal entry.
BALANCE_ACTIONS = frozenset({"CREDIT", "DEBIT", "HOLD", "RELEASE", "FORFEIT", "VOID_HOLD"})
# Actions that change an owner's tags, counters and attributes (SET_TIER is a tier change).
STATE_ACTIONS = frozenset({"TAG", "UNTAG", "COUNTER", "SET_ATTRIBUTE"})
# Actions that create events for later.
FOLLOWUP_ACTIONS = frozenset({"SCHEDULE_EVENT", "BROADCAST"})
# Single credits and debits are capped by the asset's `max_transaction_amount`.
CAPPED_ACTIONS = frozenset({"CREDIT", "DEBIT"})

# D22: a SUSPENDED or CLOSED participant refuses these (the event fails). VOID_HOLD is not among
# them: it cancels a provisional credit of the program's, which an inactive participant cannot
# veto; tags, attributes, tiers and follow-ups still apply.
INACTIVE_STATUSES = frozenset({"SUSPENDED", "CLOSED"})
BLOCKED_WHEN_INACTIVE = frozenset({"CREDIT", "DEBIT", "HOLD", "RELEASE", "FORFEIT", "COUNTER"})


class EventStatus(enum.StrEnum):
    """An event's life (D13): PENDING -> PROCESSING -> COMPLETED or FAILED."""

    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


OPEN_EVENT_STATUSES = (EventStatus.PENDING, EventStatus.PROCESSING)


class ActionStatus(enum.StrEnum):
    """What became of one resolved action."""

    APPLIED = "APPLIED"
    SUPPRESSED = "SUPPRESSED"  # a budget had no room for the credit (D21)
    SKIPPED = "SKIPPED"  # e.g. SET_TIER on an archived tier type


def is_blocked(action_type: str, participant_status: str) -> bool:
    """Whether a participant in `participant_status` refuses an action of `action_type` (D22).

    >>> is_blocked("CREDIT", "SUSPENDED"), is_blocked("TAG", "CLOSED"), is_blocked("CREDIT", "ACTIVE")
    (True, False, False)
    """
    return participant_status in INACTIVE_STATUSES and action_type in BLOCKED_WHEN_INACTIVE
