"""Tables of organisations, programs, assets, participants, groups, state and tiers.

Conventions every table follows (the API builds on them):
* `id` is a UUIDv7 string (`db.new_id`): ordering by id is ordering by creation, so cursor
  pagination is `WHERE id > :cursor ORDER BY id`.
* Every organisation-owned row carries `organisation`, and every query of the API filters on it.
* `created_at` / `updated_at` are aware UTC datetimes; `deleted_at` marks a soft delete (archive).
* Enumerations are upper-case strings, as Scrip's API spells them (`ACTIVE`, `SUSPENDED`, ...).
* Each foreign key `program` is followed by `program_id: peewee.Field[str]`: peewee adds that
  attribute (the referenced id, read without loading the row); the annotation gives it a type.

The other tables are in `events` (rules, budgets, events, evaluations), `ledger` (accounts,
journal entries, postings) and `webhooks`. No table is named `kv`, `schedule`, `task` or
`counter`: huey's `SqlHuey` owns those names in the same database.
"""

from __future__ import annotations

import peewee

from engine.store.db import database_proxy, new_id, utcnow
from engine.store.fields import AmountField, JSONField, UTCDateTimeField

# Owner types of state rows and ledger entities.
PARTICIPANT, GROUP, PROGRAM, SYSTEM = "PARTICIPANT", "GROUP", "PROGRAM", "SYSTEM"


class BaseModel(peewee.Model):
    id = peewee.CharField(primary_key=True, max_length=36, default=new_id)

    class Meta:
        database = database_proxy
        legacy_table_names = False


class Timestamped(BaseModel):
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    def save(self, *args, **kwargs):
        self.updated_at = utcnow()
        return super().save(*args, **kwargs)


class Organisation(Timestamped):
    name = peewee.CharField(max_length=255, unique=True)
    status = peewee.CharField(max_length=16, default="ACTIVE")


class ApiKey(BaseModel):
    """An API key is stored only as its SHA-256 (`key_hash`); `prefix` is what lists display."""

    organisation = peewee.ForeignKeyField(Organisation, backref="api_keys", on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    name = peewee.CharField(max_length=255, default="")
    key_hash = peewee.CharField(max_length=64, unique=True)
    prefix = peewee.CharField(max_length=16)
    created_at = UTCDateTimeField(default=utcnow)
    last_used_at = UTCDateTimeField(null=True)
    revoked_at = UTCDateTimeField(null=True)


class Program(Timestamped):
    organisation = peewee.ForeignKeyField(Organisation, backref="programs", on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    key = peewee.CharField(max_length=100, null=True)  # bundle files name programs by key
    name = peewee.CharField(max_length=255)
    description = peewee.TextField(null=True)
    on_unknown_participant = peewee.CharField(max_length=16, default="CREATE")
    status = peewee.CharField(max_length=16, default="ACTIVE", index=True)
    redemption_target_type = peewee.CharField(max_length=32, default="SYSTEM_REDEMPTION")
    redemption_target_id = peewee.CharField(max_length=36, null=True)
    # Bumped on every change of the program's rules, assets or tiers: compiled programs are
    # cached by (id, rules_version).
    rules_version = peewee.IntegerField(default=0)
    deleted_at = UTCDateTimeField(null=True)
    timezone = peewee.CharField(max_length=64, default="UTC")  # D32, schema step 24
    event_types = JSONField(null=True)  # the bundle's `events` declarations, schema step 24
    event_validation = peewee.CharField(max_length=8, default="OFF")  # OFF | FLAG | REJECT, step 24
    # the ACTIVE shadow ruleset's id (step 47): read with the program row, so an event of a
    # program without a shadow costs nothing more
    shadow_id = peewee.CharField(max_length=36, null=True)

    class Meta:
        indexes = ((("organisation", "key"), True), (("organisation", "name"), False))


class Asset(Timestamped):
    organisation = peewee.ForeignKeyField(Organisation, backref="assets", on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    symbol = peewee.CharField(max_length=16)
    name = peewee.CharField(max_length=255)
    scale = peewee.SmallIntegerField()
    inventory_mode = peewee.CharField(max_length=8, default="SIMPLE")
    spending_order = peewee.CharField(max_length=16, default="FIFO")  # LOT assets: FIFO | EXPIRING_FIRST
    issuance_policy = peewee.CharField(max_length=16, default="UNLIMITED")
    max_transaction_amount = AmountField(null=True)
    status = peewee.CharField(max_length=16, default="ACTIVE", index=True)
    deleted_at = UTCDateTimeField(null=True)
    unit_value = AmountField(null=True)  # money per unit, for the liability report (step 55)
    currency = peewee.CharField(max_length=3, null=True)  # ISO 4217, set with unit_value

    class Meta:
        indexes = ((("organisation", "symbol"), True),)


class ProgramAsset(BaseModel):
    program = peewee.ForeignKeyField(Program, backref="asset_links", on_delete="CASCADE")
    program_id: peewee.Field[str]
    asset = peewee.ForeignKeyField(Asset, backref="program_links", on_delete="CASCADE")
    asset_id: peewee.Field[str]
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("program", "asset"), True),)


class Participant(Timestamped):
    organisation = peewee.ForeignKeyField(Organisation, backref="participants", on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    external_id = peewee.CharField(max_length=255)
    status = peewee.CharField(max_length=16, default="ACTIVE", index=True)
    email = peewee.CharField(max_length=255, null=True)
    phone = peewee.CharField(max_length=50, null=True)
    first_name = peewee.CharField(max_length=255, null=True)
    last_name = peewee.CharField(max_length=255, null=True)
    display_name = peewee.CharField(max_length=255, null=True)

    class Meta:
        indexes = ((("organisation", "external_id"), True), (("organisation", "created_at"), False))


class Enrolment(BaseModel):
    participant = peewee.ForeignKeyField(Participant, backref="enrolments", on_delete="CASCADE")
    participant_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, backref="enrolments", on_delete="CASCADE")
    program_id: peewee.Field[str]
    status = peewee.CharField(max_length=16, default="ACTIVE")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("participant", "program"), True), (("program", "participant"), False))


class Group(Timestamped):
    """A shared wallet of the organisation (`engine.store.groups`): ACTIVE, or ARCHIVED for good."""

    organisation = peewee.ForeignKeyField(Organisation, backref="groups", on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    name = peewee.CharField(max_length=255)
    status = peewee.CharField(max_length=16, default="ACTIVE")
    deleted_at = UTCDateTimeField(null=True)
    # who asked for the group, kept for audit only (step 60)
    on_behalf_of_participant_id = peewee.CharField(max_length=36, null=True)

    class Meta:
        indexes = ((("organisation", "created_at"), False),)


class GroupMember(BaseModel):
    group = peewee.ForeignKeyField(Group, backref="members", on_delete="CASCADE")
    group_id: peewee.Field[str]
    participant = peewee.ForeignKeyField(Participant, backref="memberships", on_delete="CASCADE")
    participant_id: peewee.Field[str]
    role = peewee.CharField(max_length=8, default="MEMBER")
    status = peewee.CharField(max_length=8, default="ACTIVE")
    joined_at = UTCDateTimeField(default=utcnow)
    left_at = UTCDateTimeField(null=True)
    # who asked for the membership's last change (add, role, removal), for audit only (step 60)
    on_behalf_of_participant_id = peewee.CharField(max_length=36, null=True)

    class Meta:
        indexes = ((("group", "participant"), True),)


# --- state: tags, counters, attributes of participants, groups and programs ----------------------
# `owner_type` is PARTICIPANT | GROUP | PROGRAM and `owner_id` that row's id. Participant state is
# organisation-wide (as in Scrip); program state belongs to the program.


class StateTag(BaseModel):
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    owner_type = peewee.CharField(max_length=16)
    owner_id = peewee.CharField(max_length=36)
    tag = peewee.CharField(max_length=255)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("owner_type", "owner_id", "tag"), True), (("organisation", "tag"), False))


class StateCounter(BaseModel):
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    owner_type = peewee.CharField(max_length=16)
    owner_id = peewee.CharField(max_length=36)
    key = peewee.CharField(max_length=255)
    value = AmountField()
    # a Go duration ("720h") or a calendar period with its zone ("month@Europe/London"), step 25
    reset_after = peewee.CharField(max_length=80, null=True)
    last_reset_at = UTCDateTimeField(null=True)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("owner_type", "owner_id", "key"), True),)


class StateAttribute(BaseModel):
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    owner_type = peewee.CharField(max_length=16)
    owner_id = peewee.CharField(max_length=36)
    key = peewee.CharField(max_length=255)
    value = peewee.TextField()
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("owner_type", "owner_id", "key"), True),)


class StateHistory(BaseModel):
    """One change of a tag, counter, attribute or tier, in Scrip's state-history vocabulary."""

    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    owner_type = peewee.CharField(max_length=16)
    owner_id = peewee.CharField(max_length=36)
    state_type = peewee.CharField(max_length=16)  # tag | counter | attribute | tier
    key = peewee.CharField(max_length=255)
    operation = peewee.CharField(max_length=16)  # add | remove | set | delete | auto_reset
    old_value = peewee.TextField(null=True)
    new_value = peewee.TextField(null=True)
    program_id = peewee.CharField(max_length=36, null=True)
    event_id = peewee.CharField(max_length=36, null=True, index=True)
    rule_id = peewee.CharField(max_length=36, null=True)
    changed_by_api_key_id = peewee.CharField(max_length=36, null=True)
    changed_at = UTCDateTimeField(default=utcnow)
    reason = peewee.CharField(max_length=16, null=True)  # why a tier changed (A133), step 35

    class Meta:
        indexes = ((("owner_type", "owner_id", "id"), False),)


# --- tiers ----------------------------------------------------------------------------------------


class TierTypeRecord(Timestamped):
    """A program's tier type; `definition` is the `engine.model.bundle.TierType` as JSON."""

    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, backref="tier_types", on_delete="CASCADE")
    program_id: peewee.Field[str]
    key = peewee.CharField(max_length=100)
    definition = JSONField()
    status = peewee.CharField(max_length=16, default="ACTIVE")
    archived_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "tier_type"
        indexes = ((("program", "key"), True),)


class TierLevelColumns(BaseModel):
    """The columns of an owner's level in one tier type, with what its lifecycle has scheduled
    (`engine.model.tier_lifecycle.Standing`): the same for a participant's (`ParticipantTier`) and
    a group's (`GroupTier`, A257), each table adding its owner. Not a table of its own."""

    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE", backref="+")
    organisation_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, on_delete="CASCADE", backref="+")
    program_id: peewee.Field[str]
    tier_type = peewee.ForeignKeyField(TierTypeRecord, on_delete="CASCADE", backref="+")
    tier_type_id: peewee.Field[str]
    tier_key = peewee.CharField(max_length=100)
    level = peewee.CharField(max_length=100)
    rank = peewee.IntegerField()
    acquired_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField(null=True)
    period_ends_at = UTCDateTimeField(null=True)  # the next period end to evaluate
    review_at = UTCDateTimeField(null=True)  # a pending drop, or an ACTIVITY_REFRESH level's wait
    downgrade_to = peewee.CharField(max_length=100, null=True)  # a pending drop's level (None: none)
    pending_drop = peewee.BooleanField(default=False)
    due_at = UTCDateTimeField(null=True)  # the earliest of the three times; the tier job's lookup


class ParticipantTier(TierLevelColumns):
    """A participant's level in one tier type (exactly one per tier type); `due_at` is under the
    partial index `participant_tier_due` (step 35)."""

    participant = peewee.ForeignKeyField(Participant, backref="tiers", on_delete="CASCADE")
    participant_id: peewee.Field[str]

    class Meta:
        table_name = "participant_tier"
        indexes = ((("participant", "tier_type"), True), (("program", "tier_key"), False))


class RolloverColumns(BaseModel):
    """The columns of the next period end at which an owner holding no level of a tier type has
    its qualifying counters rolled over (A215): the same for a participant (`TierRollover`) and a
    group (`GroupTierRollover`), each table adding its owner. Not a table of its own."""

    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE", backref="+")
    organisation_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, on_delete="CASCADE", backref="+")
    program_id: peewee.Field[str]
    tier_type = peewee.ForeignKeyField(TierTypeRecord, on_delete="CASCADE", backref="+")
    tier_type_id: peewee.Field[str]
    tier_key = peewee.CharField(max_length=100)
    period_ends_at = UTCDateTimeField(index=True)  # when the rollover is due


class TierRollover(RolloverColumns):
    """A participant's rollover schedule: one row per participant and tier type, while they have
    qualifying progress and no level (a level's own row schedules its period ends)."""

    participant = peewee.ForeignKeyField(Participant, on_delete="CASCADE")
    participant_id: peewee.Field[str]

    class Meta:
        table_name = "tier_rollover"
        indexes = ((("participant", "tier_type"), True),)


__all__ = [
    "AmountField",
    "ApiKey",
    "Asset",
    "BaseModel",
    "Enrolment",
    "GROUP",
    "Group",
    "GroupMember",
    "JSONField",
    "Organisation",
    "PARTICIPANT",
    "PROGRAM",
    "Participant",
    "ParticipantTier",
    "Program",
    "ProgramAsset",
    "SYSTEM",
    "StateAttribute",
    "StateCounter",
    "StateHistory",
    "StateTag",
    "TierRollover",
    "TierTypeRecord",
    "Timestamped",
    "UTCDateTimeField",
]
