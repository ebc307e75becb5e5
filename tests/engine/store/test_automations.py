"""engine.store.automations: automations as rows, their next firing, and what may change."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from engine.model.automation import AutomationSpec
from engine.rules.automations import AutomationError
from engine.store.automations import (
    cancel_execution,
    create_automation,
    replace_spec,
    set_status,
    spec_of,
    trigger_now,
)
from engine.store.db import write_transaction
from engine.store.errors import Conflict, NotFound
from engine.store.models import AutomationRecord

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
T1 = datetime(2026, 3, 5, 12, tzinfo=UTC)


def spec(**fields) -> AutomationSpec:
    base = {
        "name": "weekly",
        "event_name": "weekly",
        "scope": "participants",
        "trigger": {"type": "cron", "cron_expression": "0 9 * * MON"},
    }
    return msgspec.convert(base | fields, AutomationSpec)


def create(world, **fields) -> AutomationRecord:
    with write_transaction():
        return create_automation(world.org.id, world.program.id, spec(**fields), now=T0)


def test_a_created_automation_reads_back_as_its_spec_and_fires_on_the_program_s_clock(world):
    world.program.timezone = "America/New_York"
    world.program.save()
    record = create(world, payload={"n": 1}, guard_condition="participant.status == 'ACTIVE'")
    assert record.next_run_at == datetime(2026, 3, 2, 14, tzinfo=UTC)  # 09:00 EST
    assert spec_of(AutomationRecord.get_by_id(record.id)) == spec(
        payload={"n": 1}, guard_condition="participant.status == 'ACTIVE'"
    )
    assert record.source == "api" and record.execution_status == "idle"


def test_a_spec_that_does_not_check_is_refused_and_program_scope_is_stored(world):
    with pytest.raises(AutomationError) as invalid:
        create(world, trigger={"type": "cron", "cron_expression": "61 * * * *"})
    assert invalid.value.code == "invalid_automation"
    program_wide = create(world, name="program_wide", scope="program")
    assert (program_wide.scope, program_wide.next_run_at) == ("program", datetime(2026, 3, 2, 9, tzinfo=UTC))
    trigger = {"type": "participant_state", "schedule_type": "INTERVAL", "schedule_config": {"interval": "24h"}}
    assert create(world, name="subscribed", trigger=trigger).next_run_at == T0  # subscribes at the next pass


def test_a_live_name_is_unique_in_the_program_and_an_archived_one_frees_it(world):
    first = create(world)
    with pytest.raises(Conflict) as taken:
        create(world)
    assert taken.value.code == "automation_exists"
    with write_transaction():
        set_status(first, "archived", now=T1)
    again = create(world)
    assert again.id != first.id
    with pytest.raises(Conflict) as archived, write_transaction():
        set_status(first, "active", now=T1)
    assert archived.value.code == "automation_archived"


def test_replacing_the_spec_reports_the_changes_and_re_times_a_changed_trigger(world):
    record = create(world)
    with write_transaction():
        assert replace_spec(record, spec(description="Mondays"), now=T1) == ["description"]
        assert record.next_run_at == datetime(2026, 3, 2, 9, tzinfo=UTC)  # the trigger did not change
        changed = replace_spec(record, spec(trigger={"type": "cron", "cron_expression": "0 9 * * FRI"}), now=T1)
    assert changed == ["trigger", "description"]
    assert record.next_run_at == datetime(2026, 3, 6, 9, tzinfo=UTC)
    with pytest.raises(Conflict) as immutable:
        replace_spec(record, spec(trigger={"type": "immediate"}), now=T1)
    assert immutable.value.code == "immutable_field"


def test_a_one_time_automation_that_fired_does_not_fire_again_when_resumed(world):
    record = create(world, trigger={"type": "one_time", "trigger_at": "2026-03-02T00:00:00Z"})
    record.processed_at, record.next_run_at = T1, None
    with write_transaction():
        set_status(record, "paused", now=T1)
        set_status(record, "active", now=T1)
    assert record.next_run_at is None


def test_trigger_now_and_cancel_need_the_right_state(world):
    record = create(world)
    with write_transaction():
        assert trigger_now(record, now=T1).next_run_at == T1
    with pytest.raises(Conflict) as idle:
        cancel_execution(record, now=T1)
    assert idle.value.code == "automation_not_executing"
    record.execution_status = "executing"
    with pytest.raises(Conflict) as busy:
        trigger_now(record, now=T1)
    assert busy.value.code == "automation_not_idle"
    with write_transaction():
        set_status(record, "archived", now=T1)
    assert (record.execution_status, record.execution_error) == ("failed", "the automation was archived")


ONCE_FOR_ALICE = {"type": "one_time", "trigger_at": "2026-03-02T00:00:00Z"}


def test_a_program_scope_one_time_automation_may_name_one_participant_of_the_organisation(world):
    record = create(world, scope="program", trigger=ONCE_FOR_ALICE, participant_id=world.alice.id)
    assert spec_of(AutomationRecord.get_by_id(record.id)).participant_id == world.alice.id
    with pytest.raises(NotFound):
        create(world, name="nobody", scope="program", trigger=ONCE_FOR_ALICE, participant_id="no-such-id")
    with pytest.raises(AutomationError) as cron:
        create(world, name="cron_for_one", scope="program", participant_id=world.alice.id)
    assert [problem.code for problem in cron.value.problems] == ["unexpected_field"]
    with pytest.raises(Conflict) as moved, write_transaction():
        replace_spec(record, spec(scope="program", trigger=ONCE_FOR_ALICE, participant_id=world.bob.id), now=T1)
    assert moved.value.code == "immutable_field"


def test_a_program_scope_one_time_automation_is_not_triggered_now_but_a_cron_one_is(world):
    once = create(world, name="once", scope="program", trigger=ONCE_FOR_ALICE)
    with pytest.raises(Conflict) as refused:
        trigger_now(once, now=T1)
    assert refused.value.code == "automation_not_triggerable"
    with write_transaction():
        assert trigger_now(create(world, scope="program"), now=T1).next_run_at == T1


def test_an_automation_a_schedule_event_made_is_read_only(world):
    record = create(world)
    record.source = "rule_action"
    for change in (
        lambda: trigger_now(record, now=T1),
        lambda: set_status(record, "archived", now=T1),
        lambda: replace_spec(record, spec(description="x"), now=T1),
    ):
        with pytest.raises(Conflict) as refused:
            change()
        assert refused.value.code == "automation_read_only"
