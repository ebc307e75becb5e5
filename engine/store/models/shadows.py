"""A program's shadow rulesets and what they would have done (issue 17, A230): the worker
evaluates the ACTIVE shadow beside the live rules on every event and writes only
`shadow_evaluation` rows, never the ledger or participant state."""

from __future__ import annotations

import peewee

from engine.store.db import utcnow
from engine.store.fields import JSONField, UTCDateTimeField
from engine.store.models.core import BaseModel, Organisation, Program, Timestamped
from engine.store.models.events import EventRecord

SHADOW_ACTIVE, SHADOW_CLEARED, SHADOW_PROMOTED = "ACTIVE", "CLEARED", "PROMOTED"


class ShadowRuleset(Timestamped):
    """One shadow bundle of a program. Applying a shadow adds a row with the next `version` and
    ends the ACTIVE one (CLEARED); a row is never changed otherwise, so its id names one ruleset
    for ever (the compiled form is cached by it, evaluations key on it)."""

    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, on_delete="CASCADE")
    program_id: peewee.Field[str]
    version = peewee.IntegerField()  # 1, 2, ... per program
    status = peewee.CharField(max_length=16, default=SHADOW_ACTIVE)  # ACTIVE | CLEARED | PROMOTED
    bundle = JSONField()  # the bundle as plain data (`Bundle` without its test cases)
    rule_count = peewee.IntegerField(default=0)
    ended_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "shadow_ruleset"
        indexes = ((("program", "version"), True),)


class ShadowEvaluation(BaseModel):
    """One event evaluated under one shadow ruleset, beside its live outcome. `status`: the shadow
    evaluation's status (COMPLETED or FAILED as the engine says, ERROR when the shadow could not
    compile or evaluate); outcomes are `engine.replay.outcomes.outcome_view`s, flows per asset
    symbol {credited, debited, held, forfeited} as decimal text."""

    organisation_id = peewee.CharField(max_length=36)
    program_id = peewee.CharField(max_length=36)
    shadow = peewee.ForeignKeyField(ShadowRuleset, on_delete="CASCADE")
    shadow_id: peewee.Field[str]
    event = peewee.ForeignKeyField(EventRecord, on_delete="CASCADE")
    event_id: peewee.Field[str]
    participant_id = peewee.CharField(max_length=36, null=True)
    status = peewee.CharField(max_length=16)
    error_code = peewee.CharField(max_length=64, null=True)
    error_message = peewee.TextField(null=True)
    live = JSONField()
    shadowed = JSONField()
    live_flows = JSONField(default=dict)
    shadow_flows = JSONField(default=dict)
    differs = peewee.BooleanField(default=False)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "shadow_evaluation"
        # one evaluation per event and shadow, whoever writes it; a shadow's events, all or differing
        indexes = ((("event", "shadow"), True), (("shadow", "id"), False), (("shadow", "differs", "id"), False))
