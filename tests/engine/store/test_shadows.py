"""Shadow rulesets as rows, on SQLite and PostgreSQL: versions per program, one ACTIVE, the
program's pointer kept with it, evaluations written once per (event, shadow), read back in order."""

from __future__ import annotations

import pytest

from engine.store.errors import NotFound
from engine.store.models import Organisation, Program, ShadowEvaluation
from engine.store.shadows import (
    active_shadow,
    clear_shadow,
    evaluation_page,
    evaluation_stream,
    record_evaluations,
    set_shadow,
    shadow_version,
)
from tests.engine.world import store_event

BUNDLE = {"program": {"key": "loyalty", "name": "Loyalty"}, "rules": []}


def evaluation(world, shadow, event, *, differs: bool) -> dict:
    return {
        "organisation_id": world.org.id,
        "program_id": world.program.id,
        "shadow": shadow.id,
        "event": event.id,
        "participant_id": world.alice.id,
        "status": "COMPLETED",
        "live": {"status": "COMPLETED", "error_code": None, "rules": []},
        "shadowed": {"status": "COMPLETED", "error_code": None, "rules": []},
        "differs": differs,
    }


def test_each_apply_is_the_next_version_and_ends_the_one_before(world):
    first = set_shadow(world.org.id, world.program.id, BUNDLE, rule_count=0)
    second = set_shadow(world.org.id, world.program.id, BUNDLE, rule_count=0)
    assert (first.version, second.version) == (1, 2)
    assert Program.get_by_id(world.program.id).shadow_id == second.id
    assert active_shadow(world.org.id, world.program.id).id == second.id
    assert shadow_version(world.org.id, world.program.id, 1).status == "CLEARED"
    assert shadow_version(world.org.id, world.program.id).id == second.id
    cleared = clear_shadow(world.org.id, world.program.id)
    assert cleared.status == "CLEARED" and Program.get_by_id(world.program.id).shadow_id is None
    with pytest.raises(NotFound) as missing:
        clear_shadow(world.org.id, world.program.id)
    assert missing.value.code == "shadow_not_found"


def test_another_organisation_sees_no_program(world):
    other = Organisation.create(name="globex")
    with pytest.raises(NotFound):
        set_shadow(other.id, world.program.id, BUNDLE, rule_count=0)


def test_an_evaluation_is_written_once_per_event_and_shadow(world):
    shadow = set_shadow(world.org.id, world.program.id, BUNDLE, rule_count=0)
    first, second = store_event(world, key="e1"), store_event(world, key="e2")
    rows = [evaluation(world, shadow, first, differs=True), evaluation(world, shadow, second, differs=False)]
    assert record_evaluations(rows) == 2
    assert (
        record_evaluations([evaluation(world, shadow, first, differs=False)]) == 0
        and ShadowEvaluation.select().count() == 2
    )
    assert [row.event_id for row in evaluation_page(shadow.id, differs=True, after=None, limit=10)] == [first.id]
    assert [row["event_id"] for row in evaluation_stream(shadow.id)] == [first.id, second.id]
