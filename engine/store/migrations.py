"""Schema versions, applied in order by `accrual db upgrade` (D4), never at import.

`schema_version` records every applied step. `upgrade(db)` applies the missing steps in order,
all in one transaction, and is safe to run twice and from several processes at once: PostgreSQL
serialises upgraders with an advisory lock, SQLite with its write lock (`BEGIN IMMEDIATE`).

A step is a function of the database. Step 1 creates the tables as `STEP_1_MODELS` define them;
later changes of a model add a new step (with `playhouse.migrate`), never edit an old one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import peewee

from engine.queue import create_queue_tables
from engine.store import migration_steps as steps
from engine.store import models
from engine.store.db import new_id, utcnow, write_transaction
from engine.store.errors import StoreError
from engine.store.fields import to_decimal
from engine.store.ledger.held import deltas_of
from engine.store.models import OPEN_EVENTS

ADVISORY_LOCK_KEY = 0x616363727561  # "accrua": one lock id for schema upgrades

STEP_1_MODELS: list[type[peewee.Model]] = [
    models.Organisation,
    models.ApiKey,
    models.Program,
    models.Asset,
    models.ProgramAsset,
    models.Participant,
    models.Enrolment,
    models.Group,
    models.GroupMember,
    models.StateTag,
    models.StateCounter,
    models.StateAttribute,
    models.StateHistory,
    models.TierTypeRecord,
    models.ParticipantTier,
    models.RuleRecord,
    models.RuleHistory,
    models.RuleBudget,
    models.EventRecord,
    models.RuleEvaluation,
    models.Account,
    models.LedgerHead,
    models.JournalEntry,
    models.Posting,
    models.IdempotencyRecord,
    models.WebhookEndpoint,
    models.WebhookMessage,
    models.WebhookDelivery,
]
ALL_MODELS = [
    *STEP_1_MODELS,
    models.DeferredCredit,
    models.HeldReference,
    models.LotRecord,
    models.LotTake,
    models.ParticipantBudget,
    models.AutomationRecord,
    models.AutomationSubscription,
    models.RewardRecord,
    models.RedemptionRecord,
    models.ReversalRecord,
    models.TransferRecord,
    models.RequestLog,
    models.WebhookAttemptHour,
    models.LedgerRollup,
    models.LedgerRollupHead,
    models.BacktestRun,
    models.TierRollover,
    models.GroupTier,
    models.GroupTierRollover,
    models.ShadowRuleset,
    models.ShadowEvaluation,
]


def _create_tables(db: peewee.Database) -> None:
    db.create_tables(STEP_1_MODELS, safe=True)


def _worker_queue(db: peewee.Database) -> None:
    """The task queue's tables (SqlHuey: `kv`, `schedule`, `task`, `counter`) in the application
    database, so an event and its wake-up commit together (D3); and the index of the worker's
    per-participant lane query (organisation, external_id, status, event_timestamp)."""
    create_queue_tables(db)
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS event_lane ON event (organisation_id, external_id, status, event_timestamp)"
    )


def _deferred_credits(db: peewee.Database) -> None:
    """Credits waiting in DEFERRED for their `matures_at` (what `maturity.mature_due` moves)."""
    db.create_tables([models.DeferredCredit], safe=True)


# Indexes no query needs, each a page written by every insert into a hot table. Most lead a
# wider index that serves the same lookups (posting (entry_id, position) serves entry_id); the
# others back only a foreign key whose parent is never deleted (assets), or a filter that always
# comes with a wider index's leading column (journal entries by program are listed per
# organisation: (organisation_id, program_id, id); state history per owner).
REDUNDANT_INDEXES = (
    "posting_entry_id",
    "posting_asset_id",
    "journal_entry_organisation_id",
    "journal_entry_program_id",
    "rule_evaluation_event_id",
    "state_history_organisation_id",
    "state_tag_organisation_id",
    "event_organisation_id",
    "event_program_id",
    "event_participant_id",
)
# No query looks postings up by account (verify sums an organisation's postings through its
# entries) or state history up by event; accounts are never deleted.
UNUSED_INDEXES = ("posting_account_id", "state_history_event_id")


def _drop_indexes(*names: str) -> Callable[[peewee.Database], None]:
    def step(db: peewee.Database) -> None:
        for name in names:
            db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')

    step.__doc__ = f"Fewer pages written per posted event: drop {', '.join(names)}."
    return step


# The worker's indexes hold open events only. An event is PENDING or PROCESSING for moments and
# COMPLETED or FAILED for ever, so full indexes that lead with or include the status rewrite two
# leaf pages per index at each status change, and grow with the history. Partial ones stay a few
# hot pages; the queries repeat `OPEN_EVENTS` word for word (SQLite uses a partial index only
# for a query that contains its condition).
OPEN_EVENT_INDEXES = (
    (
        "CREATE INDEX IF NOT EXISTS event_open_lane ON event (organisation_id, external_id, event_timestamp) "
        f"WHERE {OPEN_EVENTS}"
    ),
    (
        "CREATE INDEX IF NOT EXISTS event_open_participant_lane ON event (participant_id, event_timestamp) "
        f"WHERE {OPEN_EVENTS} AND external_id IS NULL"
    ),
    f"CREATE INDEX IF NOT EXISTS event_open_due ON event (status, next_attempt_at) WHERE {OPEN_EVENTS}",
    # the events listing filtered by participant (the open-event indexes hold open events only)
    "CREATE INDEX IF NOT EXISTS event_participant_id_id ON event (participant_id, id)",
    # the events listing filtered by rule: only SUCCESS evaluations are ever looked up by rule
    (
        "CREATE INDEX IF NOT EXISTS rule_evaluation_success ON rule_evaluation (rule_id, event_id) "
        "WHERE status = 'SUCCESS'"
    ),
)
# Journal entries by rule are found through that index too (`api/queries/journal.py`): an entry
# names a rule only when the rule's actions ran, and its SUCCESS evaluation is written in the same
# transaction. Both rule indexes scatter their inserts over one leaf per rule of the program.
REPLACED_BY_OPEN_EVENT_INDEXES = (
    "event_lane",
    "event_participant_id_status_event_timestamp",
    "event_status_next_attempt_at",
    "rule_evaluation_rule_id_status",
    "journal_entry_rule_id",
)


def _open_event_indexes(db: peewee.Database) -> None:
    """Partial indexes for the worker's open events and for SUCCESS evaluations (see above)."""
    for statement in OPEN_EVENT_INDEXES:
        db.execute_sql(statement)
    _drop_indexes(*REPLACED_BY_OPEN_EVENT_INDEXES)(db)


def _held_references(db: peewee.Database) -> None:
    """What each HELD account holds under each reference (`engine/store/ledger/held.py`): the ledger
    keeps it as it posts, and this step fills it from the postings written before it. Sums are
    done in Python: SQLite stores amounts as decimal text, which its SUM would turn into floats."""
    db.create_tables([models.HeldReference], safe=True)
    postings = db.execute_sql(
        "SELECT p.account_id, p.bucket, j.reference_id, p.amount FROM posting AS p "
        "JOIN journal_entry AS j ON j.id = p.entry_id WHERE p.bucket = 'HELD' AND j.reference_id IS NOT NULL"
    )
    rows = [
        {"id": new_id(), "account": account_id, "reference_id": reference_id, "amount": total, "updated_at": utcnow()}
        for (account_id, reference_id), total in deltas_of(
            (account_id, bucket, reference_id, to_decimal(value))
            for account_id, bucket, reference_id, value in postings
        ).items()
    ]
    for start in range(0, len(rows), 200):
        models.HeldReference.insert_many(rows[start : start + 200]).execute()


# Step 8 replaces two indexes of step 6 that take a leaf page per row when a backlog is worked off
# participant by participant (so not in the order of event ids), A64. By rule, evaluations are
# indexed in the order they are written: each commit appends to one leaf per rule, and the events
# listing reads `event_id` from the row. By participant, events whose participant is not yet
# resolved (events that name an external id, until processed) are left out, so resolving one
# deletes no entry from a region ordered by event id.
APPEND_ORDER_INDEXES = (
    "CREATE INDEX IF NOT EXISTS rule_evaluation_rule_success ON rule_evaluation (rule_id) WHERE status = 'SUCCESS'",
    "CREATE INDEX IF NOT EXISTS event_participant_known ON event (participant_id, id) WHERE participant_id IS NOT NULL",
)
REPLACED_BY_APPEND_ORDER_INDEXES = ("rule_evaluation_success", "event_participant_id_id")


def _append_order_indexes(db: peewee.Database) -> None:
    """Indexes whose inserts follow the order of processing (see above)."""
    for statement in APPEND_ORDER_INDEXES:
        db.execute_sql(statement)
    _drop_indexes(*REPLACED_BY_APPEND_ORDER_INDEXES)(db)


STEPS: list[tuple[int, str, Callable[[peewee.Database], None]]] = [
    (1, "initial schema", _create_tables),
    (2, "worker queue tables and lane index", _worker_queue),
    (3, "deferred credits", _deferred_credits),
    (4, "drop indexes no query needs", _drop_indexes(*REDUNDANT_INDEXES)),
    (5, "drop the posting account and state history event indexes", _drop_indexes(*UNUSED_INDEXES)),
    (6, "partial indexes for open events and SUCCESS evaluations; no journal index by rule", _open_event_indexes),
    (7, "held amounts by reference", _held_references),
    (8, "rule and participant indexes in the order of processing", _append_order_indexes),
    (9, "lots of LOT assets and the asset's spending order", steps.lots),
    (24, "program time zones and declared event types", steps.program_time_zones_and_event_types),
    (25, "budgets per participant; rule errors by time", steps.participant_budgets),
    (30, "rewards catalog, redemptions and reversals", steps.spending),
    (31, "transfers", steps.transfers),
    (32, "redemption targets spelled LEDGER_ENTITY", steps.ledger_entity_targets),
    (35, "tier lifecycle schedules", steps.tier_lifecycles),
    (36, "rollovers of qualifying counters of members without a level", steps.tier_rollovers),
    (40, "automations", steps.automations),
    (41, "participants' subscriptions to participant_state automations", steps.automation_subscriptions),
    (42, "automations for one participant of a program, and SCHEDULE_EVENT's automations", steps.automation_targets),
    (45, "processed events in their recorded order, per program", steps.recorded_order),
    (46, "backtests asked for through the API", steps.backtest_runs),
    (47, "shadow rulesets of programs and their evaluations", steps.shadow_rulesets),
    (55, "money value per unit of an asset", steps.asset_unit_values),
    (56, "request logs", steps.request_logs),
    (57, "webhook endpoint health: circuit breaker, attempts per hour, backlog index", steps.webhook_health),
    (58, "the ledger's hourly rollup", steps.ledger_rollup),
    (60, "groups: audit of who asked for a change, organisation listing index", steps.group_audit),
    (61, "groups' tier levels and rollover schedules", steps.group_tiers),
]
LATEST_VERSION = STEPS[-1][0]


_CREATE_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version "
    "(version INTEGER PRIMARY KEY, description VARCHAR(255) NOT NULL, applied_at VARCHAR(40) NOT NULL)"
)


def current_version(db: peewee.Database) -> int:
    """The highest applied step, 0 for an empty database."""
    if not db.table_exists("schema_version"):
        return 0
    return db.execute_sql("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0


def missing_steps(db: peewee.Database) -> list[int]:
    """The steps not applied to `db`, in order. A step is judged by its own number, not by the
    highest applied one: steps are numbered in ranges, so a database can hold a higher step and
    lack a lower one that was added after it."""
    if not db.table_exists("schema_version"):
        return [version for version, _, _ in STEPS]
    done = {row[0] for row in db.execute_sql("SELECT version FROM schema_version").fetchall()}
    return [version for version, _, _ in STEPS if version not in done]


def require_current(db: peewee.Database, who: str) -> None:
    """Refuse to go on with a schema `accrual db upgrade` has not completed (D4): no process
    creates tables itself."""
    missing = missing_steps(db)
    if missing:
        raise StoreError(
            f"the database schema lacks step(s) {', '.join(map(str, missing))} that {who} needs: "
            "run `accrual db upgrade` first",
            code="schema_not_current",
        )


def upgrade(db: peewee.Database) -> list[int]:
    """Apply every missing step in order; returns the versions applied now ([] when current).

    >>> upgrade(connect("sqlite:///:memory:"))
    [1]
    """
    applied: list[int] = []
    # An already open connection stays open (an in-memory SQLite database lives only as long).
    opened = db.connection_context() if db.is_closed() else contextlib.nullcontext()
    mark = db.param
    # All missing steps run in one transaction (DDL is transactional on SQLite and PostgreSQL),
    # so concurrent upgraders see either none or all of them, and a failing step leaves nothing.
    with opened, write_transaction(db):
        if isinstance(db, peewee.PostgresqlDatabase):
            db.execute_sql(f"SELECT pg_advisory_xact_lock({mark})", (ADVISORY_LOCK_KEY,))
        db.execute_sql(_CREATE_VERSION_TABLE)
        missing = set(missing_steps(db))
        for version, description, step in STEPS:
            if version not in missing:
                continue
            step(db)
            db.execute_sql(
                f"INSERT INTO schema_version (version, description, applied_at) VALUES ({mark}, {mark}, {mark})",
                (version, description, utcnow().isoformat()),
            )
            applied.append(version)
    return applied
