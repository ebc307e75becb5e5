"""Real processes reviewing a period end for 5,000 members on one SQLite file: `accrual sweep` and
`accrual worker` (its scheduler thread) killed with SIGKILL half way and started again. Whatever
the crash, each member's level is reviewed exactly once (one PERIOD_END change in state history),
and `participant.tier_changed` is written exactly once per member; and the qualifying counter of
each of 500 members without a level is rolled over exactly once.

The members are written once per module (gold in a PERIOD_BASED tier whose period ended a day ago,
so the worker's wall clock finds them due; DROP_ONE sends each to silver) and each test sweeps a
copy of that database.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from engine.cli.bench.pipeline import wait_until
from engine.model.bundle import TierType
from engine.store.db import new_id, utcnow, write_transaction
from engine.store.models import (
    Organisation,
    Participant,
    ParticipantTier,
    Program,
    StateCounter,
    TierRollover,
    WebhookEndpoint,
)
from engine.store.tier_types import create_tier_type
from tests.engine.worker.processes import (
    build_template,
    copy_database,
    kill_half_way,
    rows,
    start,
    start_worker,
    stop,
    sweep_again,
)

pytestmark = pytest.mark.slow

MEMBERS = 5000
WITHOUT_LEVEL = 500


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return build_template(tmp_path_factory.mktemp("tier-template"), lambda: build_members(MEMBERS, WITHOUT_LEVEL))


def build_members(count: int, without_level: int) -> None:
    """`count` gold members of a yearly tier whose period ended a day ago, `without_level` members
    with miles, its qualifying counter, and no level, and an endpoint that subscribes to
    `participant.tier_changed` (its deliveries are never sent: nothing listens)."""
    ended = (utcnow() - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if (ended.month, ended.day) == (2, 29):
        ended -= timedelta(days=1)
    org = Organisation.create(name=f"tiers-{new_id()}")
    program = Program.create(organisation=org, key="air", name="Air")
    WebhookEndpoint.create(
        organisation=org,
        url="https://hooks.example.com/t",
        secret="whsec_x",
        enabled_events=["participant.tier_changed"],
    )
    lifecycle = {
        "retention": {"mode": "PERIOD_BASED"},
        "qualification_period": {"type": "FIXED_YEAR", "start_month": ended.month, "start_day": ended.day},
        "downgrade_policy": {"mode": "DROP_ONE"},
        "counters": {"qualifying": ["miles"], "rollover": "NONE"},
    }
    levels = [{"key": "silver", "rank": 1}, {"key": "gold", "rank": 2}]
    spec = msgspec.convert({"key": "status", "levels": levels, "lifecycle": lifecycle}, TierType)
    record = create_tier_type(org.id, program.id, spec)
    now = utcnow()
    ids = [new_id() for _ in range(count)]
    with write_transaction():
        for start_at in range(0, count, 500):
            chunk = ids[start_at : start_at + 500]
            Participant.insert_many(
                [
                    {"id": i, "organisation": org.id, "external_id": f"m{i}", "created_at": now, "updated_at": now}
                    for i in chunk
                ]
            ).execute()
            ParticipantTier.insert_many(
                [
                    {
                        "id": new_id(),
                        "organisation": org.id,
                        "participant": i,
                        "program": program.id,
                        "tier_type": record.id,
                        "tier_key": "status",
                        "level": "gold",
                        "rank": 2,
                        "acquired_at": ended - timedelta(days=100),
                        "period_ends_at": ended,
                        "due_at": ended,
                    }
                    for i in chunk
                ]
            ).execute()
        build_progress(org.id, program.id, record.id, ended, without_level)


def build_progress(org_id: str, program_id: str, tier_type_id: str, ended, count: int) -> None:
    """Members with miles and no level, their rollover due at the period end that has passed."""
    now, ids = utcnow(), [new_id() for _ in range(count)]
    Participant.insert_many(
        [{"id": i, "organisation": org_id, "external_id": f"p{i}", "created_at": now, "updated_at": now} for i in ids]
    ).execute()
    StateCounter.insert_many(
        [
            {"organisation": org_id, "owner_type": "PARTICIPANT", "owner_id": i, "key": "miles", "value": 1200}
            for i in ids
        ]
    ).execute()
    TierRollover.insert_many(
        [
            {
                "organisation": org_id,
                "participant": i,
                "program": program_id,
                "tier_type": tier_type_id,
                "tier_key": "status",
                "period_ends_at": ended,
            }
            for i in ids
        ]
    ).execute()


@pytest.fixture
def database(template, tmp_path) -> Path:
    return copy_database(template, tmp_path)


def reviewed(path: Path) -> int:
    return rows(path, "SELECT COUNT(*) FROM state_history WHERE reason = 'PERIOD_END' AND state_type = 'tier'")[0][0]


def rolling(path: Path) -> int:
    return rows(path, "SELECT COUNT(*) FROM tier_rollover")[0][0]


def assert_every_member_reviewed_once(path: Path) -> None:
    changes = rows(
        path,
        "SELECT owner_id, COUNT(*), MIN(old_value), MIN(new_value) FROM state_history "
        "WHERE reason = 'PERIOD_END' AND state_type = 'tier' GROUP BY owner_id",
    )
    assert len(changes) == MEMBERS
    assert {(n, old, new) for _, n, old, new in changes} == {(1, "gold", "silver")}
    assert rows(path, "SELECT level, COUNT(*) FROM participant_tier GROUP BY level") == [("silver", MEMBERS)]
    messages = rows(path, "SELECT payload FROM webhook_message WHERE type = 'participant.tier_changed'")
    members = [msgspec.json.decode(payload)["data"]["participant_id"] for (payload,) in messages]
    assert len(members) == len(set(members)) == MEMBERS
    assert rows(path, "SELECT COUNT(*) FROM webhook_delivery") == [(MEMBERS,)]
    rolled = rows(
        path,
        "SELECT COUNT(*), MIN(old_value), MAX(new_value) FROM state_history "
        "WHERE reason = 'PERIOD_END' AND state_type = 'counter' GROUP BY owner_id",
    )
    assert len(rolled) == WITHOUT_LEVEL and set(rolled) == {(1, "1200", "0")}
    assert rows(path, "SELECT COUNT(*) FROM tier_rollover") == [(0,)]


def test_accrual_sweep_killed_half_way_and_run_again_reviews_each_member_once(database, tmp_path):
    until = (utcnow() + timedelta(seconds=1)).isoformat()
    log = tmp_path / "sweep.log"
    sweeping = start(database, log, "sweep", "--until", until)
    kill_half_way(sweeping, log, progress=lambda: reviewed(database), total=MEMBERS, timeout_s=240)
    assert "tiers: " in sweep_again(database, until, timeout_s=240)
    assert_every_member_reviewed_once(database)


def test_a_worker_killed_half_way_and_restarted_reviews_each_member_once(database, tmp_path):
    kill_half_way(
        start_worker(database, tmp_path / "worker-1.log"),
        tmp_path / "worker-1.log",
        progress=lambda: reviewed(database),
        total=MEMBERS,
        timeout_s=240,
    )
    restarted = start_worker(database, tmp_path / "worker-2.log")
    try:
        assert wait_until(lambda: reviewed(database) == MEMBERS and not rolling(database), timeout_s=240), (
            tmp_path / "worker-2.log"
        ).read_text()
    finally:
        stop(restarted)
    assert_every_member_reviewed_once(database)
