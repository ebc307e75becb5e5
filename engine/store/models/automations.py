"""Automations (A145): what an automation is, when it fires next, and the progress of the firing
being fanned out to the program's participants.

    automation   one automation of a program: its spec (trigger, scope, event, expressions), its
                 status, `next_run_at` (the firing the scheduler claims next) and the fan-out of
                 the current firing (`execution_*`, `participants_*`, the participant id it
                 reached)
    automation_subscription
                 a participant's subscription to a participant_state automation, with its own
                 next firing

The events a firing creates are ordinary `event` rows whose idempotency key names the automation,
the firing time and the participant, so a firing never creates one twice.
"""

from __future__ import annotations

import peewee

from engine.store.db import utcnow
from engine.store.fields import JSONField, UTCDateTimeField
from engine.store.models.core import BaseModel, Organisation, Participant, Program, Timestamped


class AutomationRecord(Timestamped):
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, on_delete="CASCADE")
    program_id: peewee.Field[str]
    name = peewee.CharField(max_length=255)
    description = peewee.TextField(null=True)
    event_name = peewee.CharField(max_length=255)
    payload = JSONField(null=True)
    scope = peewee.CharField(max_length=16)  # program | participants
    trigger = JSONField()  # the spec's trigger as written (type, cron_expression, timezone, ...)
    trigger_type = peewee.CharField(max_length=20)
    participant_filter = peewee.TextField(null=True)
    guard_condition = peewee.TextField(null=True)
    filter_hints = JSONField(null=True)
    status = peewee.CharField(max_length=16, default="active")  # active | paused | archived
    source = peewee.CharField(max_length=16, default="api")  # api | rule_action
    next_run_at = UTCDateTimeField(null=True)
    last_run_at = UTCDateTimeField(null=True)
    last_error = peewee.TextField(null=True)
    failures = peewee.IntegerField(default=0)  # consecutive failed fan-out batches
    processed_at = UTCDateTimeField(null=True)  # one_time and immediate: when they fired
    execution_status = peewee.CharField(max_length=16, default="idle")
    execution_fire_at = UTCDateTimeField(null=True)  # the firing being fanned out
    execution_cursor = peewee.CharField(max_length=36, null=True)  # the last participant id reached
    execution_started_at = UTCDateTimeField(null=True)
    execution_completed_at = UTCDateTimeField(null=True)
    execution_error = peewee.TextField(null=True)
    participants_total = peewee.IntegerField(null=True)
    participants_processed = peewee.IntegerField(null=True)
    events_created = peewee.IntegerField(default=0)  # by the current (or last) firing
    execution_errors = peewee.IntegerField(default=0)  # participants whose filter or guard errored
    # (schema step 42) the one participant a program-scope one_time automation fires for, and the
    # follow-up event a SCHEDULE_EVENT action wrote (`source: rule_action`)
    participant_id = peewee.CharField(max_length=36, null=True)
    event_id = peewee.CharField(max_length=36, null=True)

    class Meta:
        table_name = "automation"
        indexes = ((("program", "status"), False),)


# One live automation per name in a program; archived ones keep their name and stay readable.
AUTOMATION_INDEXES = (
    (
        "CREATE UNIQUE INDEX IF NOT EXISTS automation_live_name ON automation (program_id, name) "
        "WHERE status <> 'archived'"
    ),
    "CREATE INDEX IF NOT EXISTS automation_due ON automation (next_run_at) WHERE status = 'active'",
    (
        "CREATE INDEX IF NOT EXISTS automation_running ON automation (execution_status) "
        "WHERE execution_status IN ('pending', 'executing')"
    ),
)


class AutomationSubscription(BaseModel):
    """One participant's subscription to a participant_state automation (A149): when it fires
    next, how often it has, and, for THRESHOLD schedules, whether it is armed."""

    automation = peewee.ForeignKeyField(AutomationRecord, on_delete="CASCADE")
    automation_id: peewee.Field[str]
    participant = peewee.ForeignKeyField(Participant, on_delete="CASCADE")
    participant_id: peewee.Field[str]
    status = peewee.CharField(max_length=16, default="active")  # active | completed | failed | cancelled
    anchor_at = UTCDateTimeField()  # subscribed (or the latest event, for INTERVAL since last_event)
    next_trigger_at = UTCDateTimeField(null=True)
    last_triggered_at = UTCDateTimeField(null=True)
    trigger_count = peewee.IntegerField(default=0)
    retry_count = peewee.IntegerField(default=0)
    last_error = peewee.TextField(null=True)
    armed = peewee.BooleanField(default=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "automation_subscription"
        indexes = ((("automation", "participant"), True),)


SUBSCRIPTION_INDEXES = (
    (
        "CREATE INDEX IF NOT EXISTS automation_subscription_due ON automation_subscription (next_trigger_at) "
        "WHERE status = 'active'"
    ),
)
