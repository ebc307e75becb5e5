"""Worker tests: a real SQLite database (upgraded), SqlHuey on it, and a small organisation.

`drain(queue)` plays the consumer: it takes every due task off the real queue and runs it in
this thread, as a Huey worker thread would.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from engine.queue import Queue, configure_queue, enqueue_event, reset_queue
from engine.settings import WorkerSettings
from engine.store.db import connect, utcnow
from engine.store.migrations import upgrade
from engine.worker.tasks import register_task_bodies

FAST = WorkerSettings(
    event_retry_delays_s=(0, 0),
    event_lease_s=30,
    reconcile_stale_s=5,
    webhook_retry_delays_s=(0, 0, 0),
    webhook_timeout_s=2,
    webhooks_allow_private=True,
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, tmp_path):
    """A fresh, upgraded database (SQLite, and PostgreSQL when TEST_POSTGRES_URL is set)."""
    if request.param == "sqlite":
        database = connect(f"sqlite:///{tmp_path / 'accrual.db'}")
    else:
        url = os.environ.get("TEST_POSTGRES_URL")
        if not url:
            pytest.skip("TEST_POSTGRES_URL is not set (tests/services/services.sh starts a server)")
        database = connect(url)
        with database.connection_context():
            database.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    upgrade(database)
    with database.connection_context():
        yield database
    reset_queue()
    database.close_all()


@pytest.fixture
def queue(db):
    register_task_bodies()
    return configure_queue(db, None, FAST)


class World:
    """One organisation, one ACTIVE program with the asset PTS (scale 0), participants alice and bob."""

    def __init__(self) -> None:
        from engine.store.models import Asset, Organisation, Participant, Program, ProgramAsset

        self.org = Organisation.create(name="acme")
        self.program = Program.create(organisation=self.org, key="loyalty", name="Loyalty")
        self.pts = Asset.create(organisation=self.org, symbol="PTS", name="Points", scale=0)
        ProgramAsset.create(program=self.program, asset=self.pts)
        self.alice = Participant.create(organisation=self.org, external_id="alice")
        self.bob = Participant.create(organisation=self.org, external_id="bob")

    def rule(
        self, name: str = "earn", *, condition: str = "true", amount: str = "event.amount", action: str = "CREDIT"
    ):
        """A stored rule of the program moving `amount` PTS (CREDIT or DEBIT)."""
        from engine.model.bundle import Credit, Debit, Rule
        from engine.store.catalog import create_rule

        kind = Credit if action == "CREDIT" else Debit
        rule = Rule(name=name, condition=condition, actions=[kind(asset_id="PTS", amount=amount)])
        return create_rule(self.org.id, self.program.id, rule)

    def event(self, external_id: str = "alice", *, key: str, at: datetime | None = None, enqueue: bool = True, **data):
        """Ingest an event the way the API does: row and wake-up in one transaction."""
        from engine.store.db import write_transaction
        from engine.store.models import EventRecord

        with write_transaction():
            row = EventRecord.create(
                organisation=self.org,
                program=self.program,
                external_id=external_id,
                idempotency_key=key,
                payload_hash=key,
                event_data=data or {"amount": 1.0},
                event_timestamp=at or datetime(2026, 1, 1, tzinfo=UTC),
                created_at=utcnow(),
                updated_at=utcnow(),
            )
            if enqueue:
                enqueue_event(row.id)
        return row


@pytest.fixture
def world(db):
    return World()


def drain(queue: Queue, limit: int = 1000) -> int:
    """Run queued tasks in this thread until the queue is empty; returns how many ran."""
    ran = 0
    while ran < limit:
        task = queue.huey.dequeue()
        if task is None:
            return ran
        if task.eta is not None and task.eta > datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=1):
            queue.huey.add_schedule(task)
            continue
        task.execute()  # not huey.execute(): a task's exception must fail the test, not be logged
        ran += 1
    raise AssertionError(f"queue still busy after {limit} tasks")
