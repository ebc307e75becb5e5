"""The bodies of the schema steps that add a feature's tables, columns and indexes (step 9 on),
one function of the database each; `engine.store.migrations.STEPS` numbers and orders them.
A step is never edited once released: a later change is a new step.
"""

from __future__ import annotations

import peewee

from engine.store import models
from engine.store.db import utcnow
from engine.store.models.webhooks import BACKLOG
from engine.store.tier_types import schedule_rollovers, tier_to_bundle


def add_missing_column(db: peewee.Database, table: str, column: str, definition: str) -> None:
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


def lots(db: peewee.Database) -> None:
    """Lots of LOT assets, the takes of each entry, and each asset's spending order."""
    add_missing_column(db, "asset", "spending_order", "VARCHAR(16) NOT NULL DEFAULT 'FIFO'")
    db.create_tables([models.LotRecord, models.LotTake], safe=True)
    for statement in LOT_INDEXES:
        db.execute_sql(statement)


def program_time_zones_and_event_types(db: peewee.Database) -> None:
    """Each program's IANA time zone (D32, `UTC` until set) and its declared event types."""
    add_missing_column(db, "program", "timezone", "VARCHAR(64) NOT NULL DEFAULT 'UTC'")
    add_missing_column(db, "program", "event_types", "JSON")
    add_missing_column(db, "program", "event_validation", "VARCHAR(8) NOT NULL DEFAULT 'OFF'")


def participant_budgets(db: peewee.Database) -> None:
    """Budgets `per: participant` (D37): a `per` column on the budget (its unique key becomes
    (rule, asset, per)) and one row of consumption per participant and budget. And the partial
    index of rules' errors by time (`engine/store/rule_health.py`), a few rows among many."""
    add_missing_column(db, "rule_budget", "per", "VARCHAR(16) NOT NULL DEFAULT 'program'")
    add_missing_column(db, "rule_budget", "period", "VARCHAR(80)")
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


def spending(db: peewee.Database) -> None:
    """The rewards catalog, redemptions, their reversals and transfers (`models/spending.py`)."""
    db.create_tables([models.RewardRecord, models.RedemptionRecord, models.ReversalRecord], safe=True)


def transfers(db: peewee.Database) -> None:
    db.create_tables([models.TransferRecord], safe=True)


def ledger_entity_targets(db: peewee.Database) -> None:
    """A program's redemption target is spelled as Scrip spells it: `LEDGER_ENTITY`."""
    db.execute_sql(
        "UPDATE program SET redemption_target_type = 'LEDGER_ENTITY' WHERE redemption_target_type = 'ledger_entity'"
    )


def tier_lifecycles(db: peewee.Database) -> None:
    """What a tier lifecycle schedules for each level (A132): the next period end, a pending drop
    or an inactive level's review, and `due_at`, the earliest of them and of `expires_at`, with the
    partial index the scheduler's job reads (only levels with something scheduled); and the reason
    of each tier change in state history (A133)."""
    moment = "TIMESTAMP" if isinstance(db, peewee.PostgresqlDatabase) else "DATETIME"  # UTCDateTimeField's
    for column in ("period_ends_at", "review_at", "due_at"):
        add_missing_column(db, "participant_tier", column, moment)
    add_missing_column(db, "participant_tier", "downgrade_to", "VARCHAR(100)")
    add_missing_column(db, "participant_tier", "pending_drop", "BOOLEAN NOT NULL DEFAULT FALSE")
    add_missing_column(db, "state_history", "reason", "VARCHAR(16)")
    db.execute_sql("UPDATE participant_tier SET due_at = expires_at WHERE expires_at IS NOT NULL AND due_at IS NULL")
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS participant_tier_due ON participant_tier (due_at) WHERE due_at IS NOT NULL"
    )


def automations(db: peewee.Database) -> None:
    """Automations (A145): one row each, with the fan-out of its current firing."""
    db.create_tables([models.AutomationRecord], safe=True)
    for statement in models.AUTOMATION_INDEXES:
        db.execute_sql(statement)


def automation_subscriptions(db: peewee.Database) -> None:
    """Participants' subscriptions to participant_state automations (A149)."""
    db.create_tables([models.AutomationSubscription], safe=True)
    for statement in models.SUBSCRIPTION_INDEXES:
        db.execute_sql(statement)


def automation_targets(db: peewee.Database) -> None:
    """The participant of a program-scope one_time automation and the follow-up event of a
    `source: rule_action` one (A220, A222)."""
    add_missing_column(db, "automation", "participant_id", "VARCHAR(36)")
    add_missing_column(db, "automation", "event_id", "VARCHAR(36)")


def asset_unit_values(db: peewee.Database) -> None:
    """An asset's money value per unit and its currency, for the liability report (A186)."""
    add_missing_column(db, "asset", "unit_value", "TEXT" if isinstance(db, peewee.SqliteDatabase) else "NUMERIC")
    add_missing_column(db, "asset", "currency", "VARCHAR(3)")


def request_logs(db: peewee.Database) -> None:
    """The API's request logs (A189); pruned by the scheduler after the retention period."""
    db.create_tables([models.RequestLog], safe=True)


# Deliveries still to send, per endpoint: the backlog of the delivery stats, a few rows among many.
PENDING_DELIVERIES_INDEX = (
    f"CREATE INDEX IF NOT EXISTS webhook_delivery_pending ON webhook_delivery (endpoint_id, created_at) WHERE {BACKLOG}"
)


def webhook_health(db: peewee.Database) -> None:
    """The circuit breaker's columns on endpoints, attempts per hour, the backlog index (A192)."""
    for column, definition in (
        ("consecutive_failures", "INTEGER NOT NULL DEFAULT 0"),
        ("circuit_trips", "INTEGER NOT NULL DEFAULT 0"),
        ("circuit_broken_until", "DATETIME" if isinstance(db, peewee.SqliteDatabase) else "TIMESTAMP"),
        ("last_attempt_at", "DATETIME" if isinstance(db, peewee.SqliteDatabase) else "TIMESTAMP"),
    ):
        add_missing_column(db, "webhook_endpoint", column, definition)
    db.create_tables([models.WebhookAttemptHour], safe=True)
    db.execute_sql(PENDING_DELIVERIES_INDEX)


def ledger_rollup(db: peewee.Database) -> None:
    """The ledger's hourly rollup and its watermark (A187); the scheduler fills it."""
    db.create_tables([models.LedgerRollup, models.LedgerRollupHead], safe=True)


def recorded_order(db: peewee.Database) -> None:
    """A backtest reads a program's processed events in the order they finished processing
    (`engine/store/history/events.py`, D36): `(program, processed_at, id)` keeps a page's cost to
    its own rows whatever the length of the history."""
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS event_program_processed ON event (program_id, processed_at, id) "
        "WHERE processed_at IS NOT NULL"
    )


def backtest_runs(db: peewee.Database) -> None:
    """Backtests asked for through the API: one row each, its progress and its difference."""
    db.create_tables([models.BacktestRun], safe=True)


def tier_rollovers(db: peewee.Database) -> None:
    """The rollover schedule of members with qualifying counters and no level (A215), with the
    index the scheduler's job reads; members whose counters were written before it are scheduled
    at the next period end of each tier that rolls counters over."""
    db.create_tables([models.TierRollover], safe=True)
    for record in models.TierTypeRecord.select().where(models.TierTypeRecord.status == "ACTIVE"):
        schedule_rollovers(record, tier_to_bundle(record), utcnow(), (models.PARTICIPANT,))


def group_audit(db: peewee.Database) -> None:
    """Who a group and each membership change were made for (audit only), and the groups of an
    organisation in the order the list pages them."""
    add_missing_column(db, "group", "on_behalf_of_participant_id", "VARCHAR(36)")
    add_missing_column(db, "group_member", "on_behalf_of_participant_id", "VARCHAR(36)")
    db.execute_sql(
        'CREATE INDEX IF NOT EXISTS group_organisation_id_created_at ON "group" (organisation_id, created_at)'
    )


def group_tiers(db: peewee.Database) -> None:
    """A group's tier levels and the rollover schedule of a group without a level (A257), the
    participants' tables' siblings, with the partial index of the `tiers` job over due levels; the
    ACTIVE groups whose qualifying counters were written before are scheduled at the next period
    end of each tier that rolls counters over, as step 36 did for members."""
    db.create_tables([models.GroupTier, models.GroupTierRollover], safe=True)
    db.execute_sql("CREATE INDEX IF NOT EXISTS group_tier_due ON group_tier (due_at) WHERE due_at IS NOT NULL")
    for record in models.TierTypeRecord.select().where(models.TierTypeRecord.status == "ACTIVE"):
        schedule_rollovers(record, tier_to_bundle(record), utcnow(), (models.GROUP,))


def shadow_rulesets(db: peewee.Database) -> None:
    """Shadow rulesets and their evaluations (A230), and the program's ACTIVE shadow, read with
    the program row by every event."""
    add_missing_column(db, "program", "shadow_id", "VARCHAR(36)")
    db.create_tables([models.ShadowRuleset, models.ShadowEvaluation], safe=True)
