"""The tables, one module per area; every model and constant is importable from here.

    core      organisations, API keys, programs, assets, participants, groups, state, tiers
    events    rules, rule versions, budgets, events, rule evaluations
    ledger    accounts, journal entries, postings, the ledger head, holds and deferred credits
    webhooks  endpoints, messages, deliveries
"""

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
    TierTypeRecord,
    Timestamped,
)
from engine.store.models.events import OPEN_EVENTS, EventRecord, RuleBudget, RuleEvaluation, RuleHistory, RuleRecord
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
from engine.store.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookMessage

__all__ = [
    "AVAILABLE", "BUCKETS", "DEFERRED", "GROUP", "HELD", "OPEN_EVENTS", "PARTICIPANT", "PROGRAM", "SYSTEM",
    "SYSTEM_BREAKAGE", "SYSTEM_ISSUANCE", "SYSTEM_REDEMPTION", "Account", "ApiKey", "Asset", "BaseModel",
    "DeferredCredit", "Enrolment", "EventRecord", "Group", "GroupMember", "HeldReference", "IdempotencyRecord",
    "JournalEntry", "LedgerHead", "Organisation", "Participant", "ParticipantTier", "Posting", "Program",
    "ProgramAsset", "RuleBudget", "RuleEvaluation", "RuleHistory", "RuleRecord", "StateAttribute", "StateCounter",
    "StateHistory", "StateTag", "TierTypeRecord", "Timestamped", "WebhookDelivery", "WebhookEndpoint",
    "WebhookMessage",
]
