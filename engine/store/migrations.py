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
from engine.store import models
from engine.store.db import new_id, utcnow, write_transaction
from engine.store.fields import to_decimal
from engine.store.ledger.held import deltas_of
from engine.store.models import OPEN_EVENTS
from engine.store.models.webhooks import BACKLOG

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
    models.RequestLog,
    models.WebhookAttemptHour,
    models.LedgerRollup,
    models.LedgerRollupHead,
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


def _add_missing_column(db: peewee.Database, table: str, column: str, definition: str) -> None:
    """Add a column unless the table already has it: step 1 creates tables from today's models,
    so on a new database a later column is there before the step that adds it runs."""
    if column not in {c.name for c in db.get_columns(table)}:
        db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {definition}')


# LOT assets (D34): the lots and what entries took from them; due work is found through partial
# indexes over open lots, which stay as small as the value still outstanding.
LOT_INDEXES = (
    (
        "CREATE INDEX IF NOT EXISTS lot_open_expiry ON lot (expires_at) "
        f"WHERE {models.OPEN_LOTS} AND expires_at IS NOT NULL"
    ),
    "CREATE INDEX IF NOT EXISTS lot_deferred_maturity ON lot (matures_at) WHERE status = 'DEFERRED'",
)


def _lots(db: peewee.Database) -> None:
    """Lots of LOT assets, the takes of each entry, and each asset's spending order."""
    _add_missing_column(db, "asset", "spending_order", "VARCHAR(16) NOT NULL DEFAULT 'FIFO'")
    db.create_tables([models.LotRecord, models.LotTake], safe=True)
    for statement in LOT_INDEXES:
        db.execute_sql(statement)


def _program_time_zones_and_event_types(db: peewee.Database) -> None:
    """Each program's IANA time zone (D32, `UTC` until set) and its declared event types."""
    _add_missing_column(db, "program", "timezone", "VARCHAR(64) NOT NULL DEFAULT 'UTC'")
    _add_missing_column(db, "program", "event_types", "JSON")
    _add_missing_column(db, "program", "event_validation", "VARCHAR(8) NOT NULL DEFAULT 'OFF'")


def _participant_budgets(db: peewee.Database) -> None:
    """Budgets `per: participant` (D37): a `per` column on the budget (its unique key becomes
    (rule, asset, per)) and one row of consumption per participant and budget. And the partial
    index of rules' errors by time (`engine/store/rule_health.py`), a few rows among many."""
    _add_missing_column(db, "rule_budget", "per", "VARCHAR(16) NOT NULL DEFAULT 'program'")
    _add_missing_column(db, "rule_budget", "period", "VARCHAR(80)")
    if isinstance(db, peewee.PostgresqlDatabase):  # a counter's calendar reset names its zone
        db.execute_sql("ALTER TABLE state_counter ALTER COLUMN reset_after TYPE VARCHAR(80)")
    db.execute_sql('DROP INDEX IF EXISTS "rule_budget_rule_id_asset_symbol"')
    db.execute_sql(
        "CREATE UNIQUE INDEX IF NOT EXISTS rule_budget_rule_id_asset_symbol_per "
        "ON rule_budget (rule_id, asset_symbol, per)"
    )
    db.create_tables([models.ParticipantBudget], safe=True)
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS rule_evaluation_errored ON rule_evaluation (created_at) "
        "WHERE status IN ('SKIPPED_ERROR', 'SKIPPED_TIMEOUT')"
    )


def _tier_lifecycles(db: peewee.Database) -> None:
    """What a tier lifecycle schedules for each level (A132): the next period end, a pending drop
    or an inactive level's review, and `due_at`, the earliest of them and of `expires_at`, with the
    partial index the scheduler's job reads (only levels with something scheduled); and the reason
    of each tier change in state history (A133)."""
    moment = "TIMESTAMP" if isinstance(db, peewee.PostgresqlDatabase) else "DATETIME"  # UTCDateTimeField's
    for column in ("period_ends_at", "review_at", "due_at"):
        _add_missing_column(db, "participant_tier", column, moment)
    _add_missing_column(db, "participant_tier", "downgrade_to", "VARCHAR(100)")
    _add_missing_column(db, "participant_tier", "pending_drop", "BOOLEAN NOT NULL DEFAULT FALSE")
    _add_missing_column(db, "state_history", "reason", "VARCHAR(16)")
    db.execute_sql("UPDATE participant_tier SET due_at = expires_at WHERE expires_at IS NOT NULL AND due_at IS NULL")
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS participant_tier_due ON participant_tier (due_at) WHERE due_at IS NOT NULL"
    )


def _asset_unit_values(db: peewee.Database) -> None:
    """An asset's money value per unit and its currency, for the liability report (A186)."""
    _add_missing_column(db, "asset", "unit_value", "TEXT" if isinstance(db, peewee.SqliteDatabase) else "NUMERIC")
    _add_missing_column(db, "asset", "currency", "VARCHAR(3)")


def _request_logs(db: peewee.Database) -> None:
    """The API's request logs (A189); pruned by the scheduler after the retention period."""
    db.create_tables([models.RequestLog], safe=True)


# Deliveries still to send, per endpoint: the backlog of the delivery stats, a few rows among many.
PENDING_DELIVERIES_INDEX = (
    f"CREATE INDEX IF NOT EXISTS webhook_delivery_pending ON webhook_delivery (endpoint_id, created_at) WHERE {BACKLOG}"
)


def _webhook_health(db: peewee.Database) -> None:
    """The circuit breaker's columns on endpoints, attempts per hour, the backlog index (A192)."""
    for column, definition in (
        ("consecutive_failures", "INTEGER NOT NULL DEFAULT 0"),
        ("circuit_trips", "INTEGER NOT NULL DEFAULT 0"),
        ("circuit_broken_until", "DATETIME" if isinstance(db, peewee.SqliteDatabase) else "TIMESTAMP"),
        ("last_attempt_at", "DATETIME" if isinstance(db, peewee.SqliteDatabase) else "TIMESTAMP"),
    ):
        _add_missing_column(db, "webhook_endpoint", column, definition)
    db.create_tables([models.WebhookAttemptHour], safe=True)
    db.execute_sql(PENDING_DELIVERIES_INDEX)


def _ledger_rollup(db: peewee.Database) -> None:
    """The ledger's hourly rollup and its watermark (A187); the scheduler fills it."""
    db.create_tables([models.LedgerRollup, models.LedgerRollupHead], safe=True)


STEPS: list[tuple[int, str, Callable[[peewee.Database], None]]] = [
    (1, "initial schema", _create_tables),
    (2, "worker queue tables and lane index", _worker_queue),
    (3, "deferred credits", _deferred_credits),
    (4, "drop indexes no query needs", _drop_indexes(*REDUNDANT_INDEXES)),
    (5, "drop the posting account and state history event indexes", _drop_indexes(*UNUSED_INDEXES)),
    (6, "partial indexes for open events and SUCCESS evaluations; no journal index by rule", _open_event_indexes),
    (7, "held amounts by reference", _held_references),
    (8, "rule and participant indexes in the order of processing", _append_order_indexes),
    (9, "lots of LOT assets and the asset's spending order", _lots),
    (24, "program time zones and declared event types", _program_time_zones_and_event_types),
    (25, "budgets per participant; rule errors by time", _participant_budgets),
    (35, "tier lifecycle schedules", _tier_lifecycles),
    (55, "money value per unit of an asset", _asset_unit_values),
    (56, "request logs", _request_logs),
    (57, "webhook endpoint health: circuit breaker, attempts per hour, backlog index", _webhook_health),
    (58, "the ledger's hourly rollup", _ledger_rollup),
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
        done = {row[0] for row in db.execute_sql("SELECT version FROM schema_version").fetchall()}
        for version, description, step in STEPS:
            if version in done:
                continue
            step(db)
            db.execute_sql(
                f"INSERT INTO schema_version (version, description, applied_at) VALUES ({mark}, {mark}, {mark})",
                (version, description, utcnow().isoformat()),
            )
            applied.append(version)
    return applied
