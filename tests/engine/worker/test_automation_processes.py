"""Real processes firing an automation over 10,000 participants on one SQLite file: `accrual
sweep --until` and `accrual worker` (its scheduler thread) killed with SIGKILL half way through the
fan-out and started again. Whatever the crash, every participant gets exactly one event, the
automation's progress says so, and `accrual verify` passes.

The program, its participants and the automation are written once per module; each test fires
on a copy of that database.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from engine.cli.bench.pipeline import wait_until
from engine.model.automation import AutomationSpec
from engine.store.automations import create_automation
from engine.store.db import new_id, utcnow, write_transaction
from engine.store.models import Enrolment, Organisation, Participant, Program
from tests.engine.worker.processes import (
    build_template,
    copy_database,
    kill_half_way,
    rows,
    start,
    start_worker,
    stop,
    sweep_again,
    verify,
)

pytestmark = pytest.mark.slow

PARTICIPANTS = 10_000


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return build_template(tmp_path_factory.mktemp("automation-template"), build_automation)


def build_automation() -> None:
    """`PARTICIPANTS` enrolled members and a one_time automation for all of them, due a minute ago."""
    now = utcnow()
    with write_transaction():
        org = Organisation.create(name="acme")
        program = Program.create(organisation=org, key="club", name="Club", timezone="Europe/London")
        people = [{"id": new_id(), "organisation": org.id, "external_id": f"m{i:05d}"} for i in range(PARTICIPANTS)]
        for start_at in range(0, PARTICIPANTS, 500):
            Participant.insert_many(people[start_at : start_at + 500]).execute()
            Enrolment.insert_many(
                [
                    {"id": new_id(), "participant": p["id"], "program": program.id}
                    for p in people[start_at : start_at + 500]
                ]
            ).execute()
        spec = {
            "name": "spring_bonus",
            "event_name": "spring_bonus",
            "payload": {"bonus": 50},
            "scope": "participants",
            "trigger": {"type": "one_time", "trigger_at": (now - timedelta(minutes=1)).isoformat()},
            "guard_condition": "participant.status == 'ACTIVE'",  # loads each participant's state
        }
        create_automation(org.id, program.id, msgspec.convert(spec, AutomationSpec), now=now)


@pytest.fixture
def database(template, tmp_path) -> Path:
    return copy_database(template, tmp_path)


def created(path: Path) -> int:
    return rows(path, "SELECT COUNT(*) FROM event WHERE event_type = 'SYSTEM'")[0][0]


def assert_one_event_per_participant(path: Path) -> None:
    assert rows(path, "SELECT COUNT(*), COUNT(DISTINCT participant_id) FROM event") == [(PARTICIPANTS, PARTICIPANTS)]
    assert rows(path, "SELECT DISTINCT event_data FROM event") == [('{"bonus":50,"type":"spring_bonus"}',)]
    assert rows(
        path, "SELECT execution_status, participants_total, participants_processed, events_created FROM automation"
    ) == [("completed", PARTICIPANTS, PARTICIPANTS, PARTICIPANTS)]
    verify(path)


def test_accrual_sweep_killed_half_way_through_a_fan_out_and_run_again_fires_once_each(database, tmp_path):
    until = (utcnow() + timedelta(seconds=1)).isoformat()
    log = tmp_path / "sweep.log"
    sweeping = start(database, log, "sweep", "--until", until)
    kill_half_way(sweeping, log, progress=lambda: created(database), total=PARTICIPANTS, timeout_s=180)
    assert "automations: " in sweep_again(database, until, timeout_s=180)
    assert_one_event_per_participant(database)


def test_a_worker_killed_half_way_through_a_fan_out_and_restarted_fires_once_each(database, tmp_path):
    kill_half_way(
        start_worker(database, tmp_path / "worker-1.log"),
        tmp_path / "worker-1.log",
        progress=lambda: created(database),
        total=PARTICIPANTS,
        timeout_s=180,
    )
    restarted = start_worker(database, tmp_path / "worker-2.log")
    try:
        completed = "SELECT execution_status FROM automation"
        assert wait_until(lambda: rows(database, completed) == [("completed",)], timeout_s=180), (
            tmp_path / "worker-2.log"
        ).read_text()
    finally:
        stop(restarted)
    assert_one_event_per_participant(database)
