"""The tables, one module per area; every model and constant is importable from here.

core      organisations, API keys, programs, assets, participants, groups, state, tiers
group_tiers  groups' tier levels and rollover schedules
events    rules, rule versions, budgets, events, rule evaluations
ledger    accounts, journal entries, postings, the ledger head, holds and deferred credits
webhooks  endpoints, messages, deliveries, attempts per hour
operations  the ledger rollup, request logs
spending  rewards, redemptions, reversals, transfers
backtests backtests asked for through the API
shadows   shadow rulesets of programs and their evaluations
automations  automations, the fan-out of their current firing, participants' subscriptions
"""

from engine.store.models.automations import (
    AUTOMATION_INDEXES,
    SUBSCRIPTION_INDEXES,
    AutomationRecord,
    AutomationSubscription,
)
from engine.store.models.backtests import BacktestRun
from engine.store.models.core import (
    GROUP,
    PARTICIPANT,
    PROGRAM,
    SYSTEM,
    ApiKey,
    Asset,
    BaseModel,
    Enrolment,
    Group,
    GroupMember,
    Organisation,
    Participant,
    ParticipantTier,
    Program,
    ProgramAsset,
    StateAttribute,
    StateCounter,
    StateHistory,
    StateTag,
    TierRollover,
    TierTypeRecord,
    Timestamped,
)
from engine.store.models.events import (
    OPEN_EVENTS,
    EventRecord,
    ParticipantBudget,
    RuleBudget,
    RuleEvaluation,
    RuleHistory,
    RuleRecord,
)
from engine.store.models.group_tiers import GroupTier, GroupTierRollover
from engine.store.models.ledger import (
    AVAILABLE,
    BUCKETS,
    DEFERRED,
    HELD,
    SYSTEM_BREAKAGE,
    SYSTEM_ISSUANCE,
    SYSTEM_REDEMPTION,
    Account,
    DeferredCredit,
    HeldReference,
    IdempotencyRecord,
    JournalEntry,
    LedgerHead,
    Posting,
)
from engine.store.models.lots import OPEN_LOTS, LotRecord, LotTake
from engine.store.models.operations import LedgerRollup, LedgerRollupHead, RequestLog
from engine.store.models.shadows import (
    SHADOW_ACTIVE,
    SHADOW_CLEARED,
    SHADOW_PROMOTED,
    ShadowEvaluation,
    ShadowRuleset,
)
from engine.store.models.spending import RedemptionRecord, ReversalRecord, RewardRecord, TransferRecord
from engine.store.models.webhooks import WebhookAttemptHour, WebhookDelivery, WebhookEndpoint, WebhookMessage

__all__ = [
    "AUTOMATION_INDEXES",
    "AVAILABLE",
    "AutomationRecord",
    "AutomationSubscription",
    "SUBSCRIPTION_INDEXES",
    "Account",
    "ApiKey",
    "Asset",
    "BacktestRun",
    "BUCKETS",
    "BaseModel",
    "DEFERRED",
    "DeferredCredit",
    "Enrolment",
    "EventRecord",
    "GROUP",
    "Group",
    "GroupMember",
    "GroupTier",
    "GroupTierRollover",
    "HELD",
    "HeldReference",
    "IdempotencyRecord",
    "JournalEntry",
    "LedgerHead",
    "LedgerRollup",
    "LedgerRollupHead",
    "LotRecord",
    "LotTake",
    "OPEN_EVENTS",
    "OPEN_LOTS",
    "Organisation",
    "PARTICIPANT",
    "PROGRAM",
    "Participant",
    "ParticipantTier",
    "Posting",
    "Program",
    "ProgramAsset",
    "RedemptionRecord",
    "ReversalRecord",
    "RewardRecord",
    "RequestLog",
    "RuleBudget",
    "ParticipantBudget",
    "RuleEvaluation",
    "RuleHistory",
    "RuleRecord",
    "SHADOW_ACTIVE",
    "SHADOW_CLEARED",
    "SHADOW_PROMOTED",
    "SYSTEM",
    "SYSTEM_BREAKAGE",
    "SYSTEM_ISSUANCE",
    "SYSTEM_REDEMPTION",
    "ShadowEvaluation",
    "ShadowRuleset",
    "StateAttribute",
    "StateCounter",
    "StateHistory",
    "StateTag",
    "TierRollover",
    "TierTypeRecord",
    "Timestamped",
    "TransferRecord",
    "WebhookAttemptHour",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookMessage",
]
