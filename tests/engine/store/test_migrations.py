from __future__ import annotations

import threading

import pytest

from engine.store.errors import StoreError
from engine.store.migrations import (
    ALL_MODELS,
    LATEST_VERSION,
    REDUNDANT_INDEXES,
    STEPS,
    UNUSED_INDEXES,
    current_version,
    missing_steps,
    require_current,
    upgrade,
)

HUEY_TABLES = {"kv", "schedule", "task", "counter"}
ALL_VERSIONS = [version for version, _, _ in STEPS]


def test_upgrade_creates_every_table_once_and_is_safe_to_repeat(fresh_db):
    assert current_version(fresh_db) == 0
    assert upgrade(fresh_db) == ALL_VERSIONS
    assert upgrade(fresh_db) == []
    assert current_version(fresh_db) == LATEST_VERSION
    tables = set(fresh_db.get_tables())
    assert {model._meta.table_name for model in ALL_MODELS} <= tables
    assert "schema_version" in tables


def test_steps_are_in_number_order():
    assert sorted(set(ALL_VERSIONS)) == ALL_VERSIONS


def test_a_missing_lower_step_is_missing_though_a_higher_one_is_applied(fresh_db):
    """Steps are numbered in ranges: a database can hold the highest step and lack one below it."""
    upgrade(fresh_db)
    lower = ALL_VERSIONS[-2]
    fresh_db.execute_sql(f"DELETE FROM schema_version WHERE version = {lower}")
    assert current_version(fresh_db) == LATEST_VERSION
    assert missing_steps(fresh_db) == [lower]
    with pytest.raises(StoreError) as refused:
        require_current(fresh_db, "the worker")
    assert refused.value.code == "schema_not_current" and str(lower) in refused.value.message


def test_no_table_takes_a_name_huey_uses():
    assert not {model._meta.table_name for model in ALL_MODELS} & HUEY_TABLES


def test_concurrent_upgrades_apply_each_step_exactly_once(fresh_db):
    results, errors = [], []

    def run():
        try:
            with fresh_db.connection_context():
                results.append(upgrade(fresh_db))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [[], [], [], ALL_VERSIONS]


def test_steps_4_and_5_drop_the_unneeded_indexes_and_keep_the_wider_ones(fresh_db):
    upgrade(fresh_db)
    names = {
        index.name
        for table in ("posting", "journal_entry", "rule_evaluation", "state_history", "state_tag", "event")
        for index in fresh_db.get_indexes(table)
    }
    assert not names & {*REDUNDANT_INDEXES, *UNUSED_INDEXES}
    assert {
        "posting_entry_id_position",
        "journal_entry_organisation_id_sequence",
        "rule_evaluation_event_id_id",
        "journal_entry_organisation_id_program_id_id",
        "event_program_id_idempotency_key",
    } <= names


def test_worker_and_listing_queries_use_the_partial_indexes(tmp_path):
    """The partial indexes only help if SQLite picks them: the queries must repeat OPEN_EVENTS."""
    from engine.store.db import connect
    from engine.store.models import OPEN_EVENTS

    db = connect(f"sqlite:///{tmp_path / 'plan.db'}")
    upgrade(db)
    lane = "(organisation_id = ? AND external_id = ?)"
    plans = {
        "event_open_lane": f"SELECT id FROM event WHERE {lane} AND {OPEN_EVENTS} AND status = 'PENDING' "
        "ORDER BY event_timestamp LIMIT 1",
        "event_open_due": f"SELECT id FROM event WHERE {OPEN_EVENTS} AND status = 'PROCESSING' "
        "AND next_attempt_at <= ?",
        "rule_evaluation_rule_success": "SELECT event_id FROM rule_evaluation WHERE rule_id = ? AND status = 'SUCCESS'",
        "event_participant_known": "SELECT id FROM event WHERE participant_id = ? ORDER BY id DESC LIMIT 20",
    }
    with db.connection_context():
        for index, sql in plans.items():
            plan = " ".join(row[-1] for row in db.execute_sql(f"EXPLAIN QUERY PLAN {sql}", ["x"] * sql.count("?")))
            assert f"INDEX {index} " in plan, (index, plan)
        replaced = {
            "event_lane",
            "event_status_next_attempt_at",
            "rule_evaluation_rule_id_status",
            "rule_evaluation_success",
            "event_participant_id_id",
        }
        assert not replaced & {row[0] for row in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
    db.close_all()


def test_steps_24_and_25_add_their_columns_to_a_database_made_before_them(tmp_path):
    """A database upgraded to step 8 (before program time zones and per-participant budgets)
    gets the new columns, the budget index on (rule, asset, per) and the new table."""
    from engine.store.db import connect

    db = connect(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db)
    with db.connection_context():
        for statement in (
            'DROP INDEX "rule_budget_rule_id_asset_symbol_per"',
            'DROP INDEX "rule_evaluation_errored"',
            'DROP TABLE "participant_budget"',
            'ALTER TABLE "rule_budget" DROP COLUMN "per"',
            'ALTER TABLE "rule_budget" DROP COLUMN "period"',
            'ALTER TABLE "program" DROP COLUMN "timezone"',
            'ALTER TABLE "program" DROP COLUMN "event_types"',
            'ALTER TABLE "program" DROP COLUMN "event_validation"',
            'CREATE UNIQUE INDEX "rule_budget_rule_id_asset_symbol" ON "rule_budget" (rule_id, asset_symbol)',
            "DELETE FROM schema_version WHERE version IN (24, 25)",
        ):
            db.execute_sql(statement)
        assert upgrade(db) == [24, 25]
        assert {"timezone", "event_types", "event_validation"} <= {c.name for c in db.get_columns("program")}
        assert {"per", "period"} <= {c.name for c in db.get_columns("rule_budget")}
        indexes = {index.name: index.columns for index in db.get_indexes("rule_budget")}
        assert "rule_budget_rule_id_asset_symbol" not in indexes
        assert indexes["rule_budget_rule_id_asset_symbol_per"] == ["rule_id", "asset_symbol", "per"]
        assert "participant_budget" in db.get_tables()
    db.close()


def test_step_35_adds_the_tier_schedules_and_makes_existing_expiries_due(fresh_db):
    """A database made before tier lifecycles ran gets the schedule columns, their partial index and
    the reason of a state change."""
    upgrade(fresh_db)
    with fresh_db.connection_context():
        fresh_db.execute_sql('DROP INDEX "participant_tier_due"')
        for column in ("period_ends_at", "review_at", "downgrade_to", "pending_drop", "due_at"):
            fresh_db.execute_sql(f'ALTER TABLE "participant_tier" DROP COLUMN "{column}"')
        fresh_db.execute_sql('ALTER TABLE "state_history" DROP COLUMN "reason"')
        fresh_db.execute_sql("DELETE FROM schema_version WHERE version = 35")
        columns = {c.name for c in fresh_db.get_columns("participant_tier")}
        assert "due_at" not in columns
        assert upgrade(fresh_db) == [35]
        columns = {c.name for c in fresh_db.get_columns("participant_tier")}
        assert {"period_ends_at", "review_at", "downgrade_to", "pending_drop", "due_at"} <= columns
        assert "reason" in {c.name for c in fresh_db.get_columns("state_history")}
        assert "participant_tier_due" in {index.name for index in fresh_db.get_indexes("participant_tier")}


def test_step_36_schedules_the_rollover_of_members_with_counters_and_no_level(fresh_db):
    """Members whose qualifying counters were written before the rollover schedule existed get one
    at the next period end; a member who holds a level, or has no such counter, gets none."""
    from datetime import UTC, datetime

    import msgspec

    from engine.model.bundle import TierType
    from engine.store.db import utcnow
    from engine.store.models import (
        Enrolment,
        Organisation,
        Participant,
        ParticipantTier,
        Program,
        StateCounter,
        TierRollover,
        TierTypeRecord,
    )

    upgrade(fresh_db)  # `connect` bound the models to it
    with fresh_db.connection_context():
        org = Organisation.create(name="acme")
        program = Program.create(organisation=org, key="air", name="Air")
        lifecycle = {"qualification_period": {"type": "CALENDAR_YEAR"}, "counters": {"qualifying": ["miles"]}}
        spec = msgspec.convert(
            {"key": "status", "levels": [{"key": "gold", "rank": 1}], "lifecycle": lifecycle}, TierType
        )
        definition = {k: v for k, v in msgspec.to_builtins(spec).items() if k != "status"}
        record = TierTypeRecord.create(organisation=org, program=program, key="status", definition=definition)
        people = {}
        for name in ("progress", "holder", "idle"):
            people[name] = Participant.create(organisation=org, external_id=name)
            Enrolment.create(participant=people[name], program=program)
        for name in ("progress", "holder"):
            StateCounter.create(
                organisation=org, owner_type="PARTICIPANT", owner_id=people[name].id, key="miles", value=5
            )
        ParticipantTier.create(
            organisation=org,
            participant=people["holder"],
            program=program,
            tier_type=record,
            tier_key="status",
            level="gold",
            rank=1,
        )
        fresh_db.execute_sql('DROP TABLE "tier_rollover"')
        fresh_db.execute_sql("DELETE FROM schema_version WHERE version = 36")
        assert upgrade(fresh_db) == [36]
        rows = [(row.participant_id, row.period_ends_at) for row in TierRollover.select()]
        assert rows == [(people["progress"].id, datetime(utcnow().year + 1, 1, 1, tzinfo=UTC))]


def test_step_47_adds_the_shadow_tables_and_the_programs_pointer(tmp_path):
    """A database made before shadows gets `program.shadow_id` and both shadow tables."""
    from engine.store.db import connect

    db = connect(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db)
    with db.connection_context():
        for statement in (
            'DROP TABLE "shadow_evaluation"',
            'DROP TABLE "shadow_ruleset"',
            'ALTER TABLE "program" DROP COLUMN "shadow_id"',
            "DELETE FROM schema_version WHERE version = 47",
        ):
            db.execute_sql(statement)
        assert upgrade(db) == [47]
        assert "shadow_id" in {c.name for c in db.get_columns("program")}
        assert {"shadow_ruleset", "shadow_evaluation"} <= set(db.get_tables())
        unique = [index.columns for index in db.get_indexes("shadow_evaluation") if index.unique]
        assert ["event_id", "shadow_id"] in unique
    db.close()


def test_step_61_adds_the_group_tier_tables_and_schedules_groups_with_progress(fresh_db):
    """A database made before groups held levels gets `group_tier` (with its partial index on
    `due_at`) and `group_tier_rollover`, and its ACTIVE groups with qualifying progress and no
    level are scheduled; step 36, crossed before step 61, schedules members only."""
    from datetime import UTC, datetime

    import msgspec

    from engine.model.bundle import TierType
    from engine.store.db import utcnow
    from engine.store.models import Group, GroupTierRollover, Organisation, Program, StateCounter, TierTypeRecord

    upgrade(fresh_db)
    with fresh_db.connection_context():
        org = Organisation.create(name="acme")
        program = Program.create(organisation=org, key="air", name="Air")
        lifecycle = {"qualification_period": {"type": "CALENDAR_YEAR"}, "counters": {"qualifying": ["miles"]}}
        spec = msgspec.convert(
            {"key": "status", "levels": [{"key": "gold", "rank": 1}], "lifecycle": lifecycle}, TierType
        )
        definition = {k: v for k, v in msgspec.to_builtins(spec).items() if k != "status"}
        TierTypeRecord.create(organisation=org, program=program, key="status", definition=definition)
        saving, archived = (
            Group.create(organisation=org, name="Smiths"),
            Group.create(organisation=org, name="Old", status="ARCHIVED"),
        )
        for group in (saving, archived):
            StateCounter.create(organisation=org, owner_type="GROUP", owner_id=group.id, key="miles", value=5)
        fresh_db.execute_sql('DROP TABLE "group_tier_rollover"')
        fresh_db.execute_sql('DROP TABLE "group_tier"')
        fresh_db.execute_sql("DELETE FROM schema_version WHERE version IN (36, 61)")
        assert upgrade(fresh_db) == [36, 61]
        assert "group_tier_due" in {index.name for index in fresh_db.get_indexes("group_tier")}
        rows = [(row.group_id, row.period_ends_at) for row in GroupTierRollover.select()]
        assert rows == [(saving.id, datetime(utcnow().year + 1, 1, 1, tzinfo=UTC))]
