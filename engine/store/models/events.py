"""Tables of rules (every version kept), budgets, events and rule evaluation records."""

from __future__ import annotations

import peewee

from engine.model.vocabulary import EventStatus
from engine.store.db import utcnow
from engine.store.fields import AmountField, JSONField, UTCDateTimeField
from engine.store.models.core import BaseModel, Organisation, Participant, Program, Timestamped

# The condition of the partial indexes over open events (migration step 6). A query that wants
# them must contain this text word for word: SQLite proves no implications between conditions.
OPEN_EVENTS = "status IN ('PENDING', 'PROCESSING')"


class RuleRecord(Timestamped):
    """The current version of a rule. `actions` is the list of `engine.model.bundle` actions as JSON,
    with `asset_id` normalised to the asset's symbol; budgets live in `rule_budget`.
    `version` starts at 1 and grows with every change; each version is a `rule_history` row."""

    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, backref="rules", on_delete="CASCADE")
    program_id: peewee.Field[str]
    name = peewee.CharField(max_length=255)
    description = peewee.TextField(null=True)
    condition = peewee.TextField()
    actions = JSONField()
    order = peewee.IntegerField()
    stop_after_match = peewee.BooleanField(default=False)
    active_from = UTCDateTimeField(null=True)
    active_to = UTCDateTimeField(null=True)
    status = peewee.CharField(max_length=16, default="ACTIVE")
    version = peewee.IntegerField(default=1)
    deleted_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "rule"
        indexes = ((("program", "name"), False), (("program", "order"), False))


class RuleHistory(BaseModel):
    """One version of a rule: `snapshot` is the full `engine.model.bundle.Rule` as JSON."""

    rule = peewee.ForeignKeyField(RuleRecord, backref="history", on_delete="CASCADE")
    rule_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, on_delete="CASCADE")
    program_id: peewee.Field[str]
    version = peewee.IntegerField()
    change_type = peewee.CharField(max_length=16)  # created|updated|archived|suspended|activated
    changes = JSONField(default=dict)
    snapshot = JSONField()
    changed_by_api_key_id = peewee.CharField(max_length=36, null=True)
    changed_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("rule", "version"), True),)


class RuleBudget(BaseModel):
    """A rule's cap on its CREDIT amounts of one asset (D21). `consumed` counts the current
    period, which started at `period_started_at` and ends at `next_reset_at` (null: lifetime)."""

    rule = peewee.ForeignKeyField(RuleRecord, backref="budget_rows", on_delete="CASCADE")
    rule_id: peewee.Field[str]
    asset_symbol = peewee.CharField(max_length=16)
    limit = AmountField()
    schedule_type = peewee.CharField(max_length=16, null=True)  # CRON | INTERVAL | CALENDAR | null
    cron_expression = peewee.CharField(max_length=100, null=True)
    interval = peewee.CharField(max_length=32, null=True)  # a Go duration
    period = peewee.CharField(max_length=80, null=True)  # with CALENDAR: month, month@Europe/London (step 25)
    consumed = AmountField(default=0)
    period_started_at = UTCDateTimeField(default=utcnow)
    next_reset_at = UTCDateTimeField(null=True)
    per = peewee.CharField(max_length=16, default="program")  # program | participant (schema step 25)

    class Meta:
        # One budget per (rule, asset, per); the unique index of step 1 is replaced in step 25.
        indexes = ((("rule", "asset_symbol", "per"), True),)


class ParticipantBudget(BaseModel):
    """What one participant has consumed of a `per: participant` budget in its current period
    (schema step 25). The period's bounds are the participant's own: a row is written at the
    participant's first credit and rolled over as the budget's are."""

    budget = peewee.ForeignKeyField(RuleBudget, backref="participant_rows", on_delete="CASCADE")
    budget_id: peewee.Field[str]
    participant_id = peewee.CharField(max_length=36)
    consumed = AmountField(default=0)
    period_started_at = UTCDateTimeField(default=utcnow)
    next_reset_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("budget", "participant_id"), True),)


class EventRecord(BaseModel):
    """An ingested event. `payload_hash` is the SHA-256 of the normalised request (D12);
    `(program, idempotency_key)` is unique, so concurrent duplicates create one row."""

    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, on_delete="CASCADE")
    program_id: peewee.Field[str]
    participant = peewee.ForeignKeyField(Participant, null=True, on_delete="SET NULL")
    participant_id: peewee.Field[str | None]
    external_id = peewee.CharField(max_length=255, null=True)
    recipient = peewee.ForeignKeyField(
        Participant, null=True, on_delete="SET NULL", backref="received_events", column_name="recipient_id"
    )
    recipient_id: peewee.Field[str | None]
    recipient_external_id = peewee.CharField(max_length=255, null=True)
    idempotency_key = peewee.CharField(max_length=255)
    payload_hash = peewee.CharField(max_length=64)
    event_data = JSONField()
    event_timestamp = UTCDateTimeField()
    event_type = peewee.CharField(max_length=16, default="EXTERNAL")
    status = peewee.CharField(max_length=16, default=EventStatus.PENDING.value)
    attempts = peewee.IntegerField(default=0)
    error_code = peewee.CharField(max_length=64, null=True)
    error_message = peewee.TextField(null=True)
    next_attempt_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)  # the server's receive time (D16)
    updated_at = UTCDateTimeField(default=utcnow)
    processed_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "event"
        indexes = (
            (("program", "idempotency_key"), True),
            (("organisation", "status", "id"), False),
            (("organisation", "program", "id"), False),
            (("participant", "status", "event_timestamp"), False),
            (("status", "next_attempt_at"), False),
        )


class RuleEvaluation(BaseModel):
    """What one rule did for one event. `status` is the API's vocabulary (D31: SUCCESS,
    SKIPPED_ERROR, SKIPPED_TIMEOUT, SKIPPED with `reason`); `engine_status` the engine's."""

    event = peewee.ForeignKeyField(EventRecord, backref="evaluations", on_delete="CASCADE")
    event_id: peewee.Field[str]
    rule_id = peewee.CharField(max_length=36, null=True)
    rule_name = peewee.CharField(max_length=255)
    rule_history_id = peewee.CharField(max_length=36, null=True)
    rule_version = peewee.IntegerField(null=True)
    status = peewee.CharField(max_length=32)
    engine_status = peewee.CharField(max_length=32)
    reason = peewee.CharField(max_length=32, null=True)
    stopped_by_rule_id = peewee.CharField(max_length=36, null=True)
    error_code = peewee.CharField(max_length=64, null=True)
    error_message = peewee.TextField(null=True)
    actions = JSONField(default=list)  # the resolved actions of a matched rule
    attempt = peewee.IntegerField(default=1)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("event", "id"), False), (("rule_id", "status"), False))
