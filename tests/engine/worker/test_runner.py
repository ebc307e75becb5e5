"""Real processes: a uvicorn API and `accrual worker` processes on one SQLite file.

Exactly-once under crashes (SIGKILL mid-way, then a restart), graceful SIGTERM, two workers on the
same participants, and webhooks to a real receiver on loopback. Every wait is bounded.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from engine.cli.bench.pipeline import System, count_statuses, wait_until
from tests.engine.webhooks.receiver import Receiver

pytestmark = pytest.mark.slow

PARTICIPANTS = 12


@pytest.fixture
def system(tmp_path):
    with System(tmp_path, rules=1) as running:  # one rule: CREDIT 1 PTS when amount > 0
        yield running


def rows(system: System, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(system.database_url.removeprefix("sqlite:///"), timeout=30) as conn:
        return conn.execute(sql, params).fetchall()


def post_with_duplicates(system: System, count: int) -> set[str]:
    """`count` distinct events over PARTICIPANTS participants, each sent once, every tenth twice
    (an idempotent replay). Returns the distinct idempotency keys."""
    bodies = [
        system.event_body(
            n,
            participant=f"user_{n % PARTICIPANTS}",
            amount=float(1 + n % 5),
            timestamp=f"2026-01-01T12:{n // 60 % 60:02d}:{n % 60:02d}Z",
        )
        for n in range(count)
    ]
    bodies += [bodies[n] for n in range(0, count, 10)]
    responses = system.post_events(bodies)
    assert [r.status_code for r in responses] == [202] * len(bodies)
    return {body["idempotency_key"] for body in bodies}


def assert_exactly_once(system: System, keys: set[str]) -> None:
    events = rows(system, "SELECT id, idempotency_key, status, attempts FROM event")
    assert sorted(key for _, key, _, _ in events) == sorted(keys)  # one event per key
    assert {status for _, _, status, _ in events} == {"COMPLETED"}
    credits = dict(rows(system, "SELECT event_id, COUNT(*) FROM journal_entry GROUP BY event_id"))
    assert {event_id: credits.get(event_id) for event_id, *_ in events} == {event_id: 1 for event_id, *_ in events}
    verify = subprocess.run(
        [str(Path(sys.executable).with_name("accrual")), "verify", "--database-url", system.database_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def completed(system: System) -> int:
    return count_statuses(system.database_url).get("COMPLETED", 0)


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_every_event_completes_exactly_once_across_a_worker_stop(system, tmp_path, stop):
    keys = post_with_duplicates(system, 300)
    worker = system.start_worker(threads=2, log=tmp_path / "worker-1.log")
    assert wait_until(lambda: completed(system) >= 40, timeout_s=120), (tmp_path / "worker-1.log").read_text()
    code = system.stop_worker(worker, stop)
    done_at_stop = completed(system)
    assert code == (-signal.SIGKILL if stop == signal.SIGKILL else 0)
    assert done_at_stop < len(keys), "the worker finished before it was stopped: nothing was interrupted"
    system.start_worker(threads=2, log=tmp_path / "worker-2.log")
    assert wait_until(lambda: completed(system) == len(keys), timeout_s=180), count_statuses(system.database_url)
    assert_exactly_once(system, keys)


def test_two_workers_on_the_same_participants_never_lose_or_double_a_credit(system, tmp_path):
    keys = post_with_duplicates(system, 240)
    system.start_worker(threads=2, log=tmp_path / "a.log")
    system.start_worker(threads=2, log=tmp_path / "b.log")
    assert wait_until(lambda: completed(system) == len(keys), timeout_s=180), count_statuses(system.database_url)
    assert_exactly_once(system, keys)
    # Balances: one point per event for every participant, none lost to a concurrent update.
    per_participant = dict(rows(system, "SELECT external_id, COUNT(*) FROM event GROUP BY external_id"))
    balances = dict(
        rows(
            system,
            "SELECT p.external_id, a.balance FROM account a JOIN participant p "
            "ON p.id = a.entity_id WHERE a.entity_type = 'PARTICIPANT' AND a.bucket = 'AVAILABLE'",
        )
    )
    assert {k: int(v) for k, v in balances.items()} == per_participant
    # D15: each participant's credits were posted in event_timestamp order.
    posted = rows(
        system,
        "SELECT e.external_id, e.event_timestamp FROM journal_entry j JOIN event e "
        "ON e.id = j.event_id ORDER BY j.sequence",
    )
    by_participant: dict[str, list[str]] = defaultdict(list)
    for external_id, timestamp in posted:
        by_participant[external_id].append(timestamp)
    assert all(stamps == sorted(stamps) for stamps in by_participant.values())


def test_webhooks_reach_a_real_receiver_signed_retried_and_resendable(system, tmp_path):
    from engine.queue import configure_queue, reset_queue
    from engine.store.db import connect
    from engine.store.models import Organisation, WebhookDelivery
    from engine.webhooks import endpoints, signing

    with Receiver() as receiver:
        db = connect(system.database_url)
        configure_queue(db, "sql")  # this process enqueues the resend's wake-up
        with db.connection_context():
            org = Organisation.get(Organisation.name == "bench")
            endpoint = endpoints.create_endpoint(org.id, url=receiver.url, enabled_events=["*"], allow_private=True)
        receiver.fail_next = 3  # the first three attempts get a 503
        post_with_duplicates(system, 5)
        system.start_worker(threads=2, log=tmp_path / "worker.log")

        def all_delivered() -> bool:
            statuses = rows(system, "SELECT status FROM webhook_delivery")
            return bool(statuses) and {s for (s,) in statuses} == {"DELIVERED"}

        assert wait_until(all_delivered, timeout_s=120), rows(system, "SELECT status, last_error FROM webhook_delivery")
        types = sorted(t for (t,) in rows(system, "SELECT event_type FROM webhook_delivery"))
        assert types == sorted(["participant.created"] * 5 + ["balance.credited"] * 5 + ["event.completed"] * 5)
        retried = rows(system, "SELECT COUNT(*) FROM webhook_delivery WHERE attempt_count > 1")[0][0]
        assert retried >= 1
        assert len(receiver.requests) == 15 + 3
        for headers, body in receiver.requests:
            signing.verify(endpoint.secret, headers, body)

        with db.connection_context():
            first = WebhookDelivery.select().order_by(WebhookDelivery.id).first()
            copy = endpoints.resend_delivery(org.id, first.id)
        assert wait_until(lambda: len(receiver.requests) == 19, timeout_s=60)
        headers, body = receiver.requests[-1]
        signing.verify(endpoint.secret, headers, body)
        assert headers["webhook-id"] == first.message_id and copy.resend_seq == 1
        reset_queue()
        db.close_all()
