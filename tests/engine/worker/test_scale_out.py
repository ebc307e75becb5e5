"""The scale-out layout proven with real processes: two uvicorn API processes and two `accrual
worker` processes on PostgreSQL with the Redis queue (docs/deployment.md).

Events posted to both APIs at once, with copies of the same idempotency key racing in both, are
each processed exactly once; a worker killed with SIGKILL mid-run and started again loses and
doubles nothing; webhooks reach a real receiver once each; the API's key paths give one answer
whichever process serves them. Each test has its own participants and keys in one deployment;
those that process events end with `accrual verify`. Every wait is a poll with a deadline.
"""

from __future__ import annotations

import signal
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from engine.cli.bench.pipeline import wait_until
from tests.engine.webhooks.receiver import Receiver
from tests.engine.worker.deployment import Deployment

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PARTICIPANTS = 12


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    with Deployment(tmp_path_factory.mktemp("scale-out"), apis=2) as running:
        yield running


@pytest.fixture
def workers(deployment, tmp_path) -> Iterator[list]:
    """The workers a test starts, stopped (SIGTERM) when it ends so the next test starts clean."""
    started: list = []
    yield started
    for process in started:
        if process.poll() is None:
            deployment.stop_worker(process)


def bodies(deployment: Deployment, prefix: str, count: int, participants: int = PARTICIPANTS) -> list[dict]:
    """`count` purchases with keys `prefix-n` over the participants `prefix_user_i`, event n at n
    seconds past noon, so each participant's order (D15) is the order of n."""
    return [
        {
            "program_id": deployment.program_id,
            "external_id": f"{prefix}_user_{n % participants}",
            "idempotency_key": f"{prefix}-{n}",
            "event_timestamp": f"2026-01-01T{12 + n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z",
            "event_data": {"type": "purchase", "amount": float(1 + n % 5), "n": n},
        }
        for n in range(count)
    ]


def post_with_duplicates(deployment: Deployment, events: list[dict]) -> set[str]:
    """Every event to one API, alternately; every tenth also to both APIs at once. Every answer is
    202 and the copies of one key name one event, whichever process answered."""
    duplicates = events[::10]
    answers = deployment.post_alternately(events, duplicates)
    assert all(r.status_code == 202 for batch in answers for r in batch), [
        r.content for batch in answers for r in batch if r.status_code != 202
    ][:3]
    ids: dict[str, set[str]] = defaultdict(set)
    for batch, share in zip(answers, deployment.shares(events, duplicates), strict=True):
        for response, body in zip(batch, share, strict=True):
            ids[body["idempotency_key"]].add(response.json()["id"])
    assert all(len(found) == 1 for found in ids.values()), {k: v for k, v in ids.items() if len(v) > 1}
    return set(ids)


def completed(deployment: Deployment, prefix: str) -> int:
    return deployment.rows(
        "SELECT COUNT(*) FROM event WHERE idempotency_key LIKE %s AND status = 'COMPLETED'", f"{prefix}-%"
    )[0][0]


def assert_exactly_once(deployment: Deployment, prefix: str, keys: set[str], *, crashed: bool = False) -> None:
    """One event per key, each COMPLETED with one journal entry; each participant's balance is its
    number of events (1 PTS each); each participant's credits posted in event order (D15); the
    ledger verifies.

    An event claimed more than once (`attempts` above 1) is left out of the order check: a failed
    attempt waiting for its retry, or an event whose worker was killed once its lease ran out, no
    longer holds up its lane (A38), so later events of its participant may be posted before it.
    Every other event keeps its participant's order. Without a crash (`crashed` false) at most a
    few events may need a second attempt."""
    events = deployment.rows(
        "SELECT id, idempotency_key, status FROM event WHERE idempotency_key LIKE %s", f"{prefix}-%"
    )
    assert sorted(key for _, key, _ in events) == sorted(keys)
    assert {status for *_, status in events} == {"COMPLETED"}
    entries = dict(
        deployment.rows(
            "SELECT j.event_id, COUNT(*) FROM journal_entry j JOIN event e ON e.id = j.event_id "
            "WHERE e.idempotency_key LIKE %s GROUP BY j.event_id",
            f"{prefix}-%",
        )
    )
    assert {event_id: entries.get(event_id) for event_id, *_ in events} == {event_id: 1 for event_id, *_ in events}
    per_participant = dict(
        deployment.rows(
            "SELECT external_id, COUNT(*) FROM event WHERE idempotency_key LIKE %s GROUP BY external_id", f"{prefix}-%"
        )
    )
    balances = dict(
        deployment.rows(
            "SELECT p.external_id, a.balance FROM account a JOIN participant p ON p.id = a.entity_id "
            "WHERE a.entity_type = 'PARTICIPANT' AND a.bucket = 'AVAILABLE' AND p.external_id LIKE %s",
            prefix + r"\_%",
        )
    )
    assert {name: Decimal(str(balance)) for name, balance in balances.items()} == per_participant
    posted = deployment.rows(
        "SELECT e.external_id, e.event_timestamp FROM journal_entry j JOIN event e ON e.id = j.event_id "
        "WHERE e.idempotency_key LIKE %s AND e.attempts = 1 ORDER BY j.sequence",
        f"{prefix}-%",
    )
    if not crashed:
        assert len(posted) >= len(keys) * 0.95, deployment.logs()
    by_participant: dict[str, list] = defaultdict(list)
    for external_id, timestamp in posted:
        by_participant[external_id].append(timestamp)
    assert all(stamps == sorted(stamps) for stamps in by_participant.values())
    verify = deployment.verify()
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_events_posted_to_two_apis_with_racing_duplicates_are_processed_once_by_two_workers(deployment, workers):
    keys = post_with_duplicates(deployment, bodies(deployment, "dup", 300))
    workers += [deployment.start_worker(deployment.directory / f"dup-{n}.log") for n in range(2)]
    assert wait_until(lambda: completed(deployment, "dup") == len(keys), timeout_s=240), deployment.logs()
    assert_exactly_once(deployment, "dup", keys)
    # The wake-ups went through Redis: the workers consumed RedisHuey and the SQL queue stayed empty.
    assert "queue RedisStorage" in (deployment.directory / "dup-0.log").read_text()
    assert deployment.rows("SELECT COUNT(*) FROM task") == [(0,)]


def test_fifty_identical_requests_at_once_to_two_apis_create_one_event(deployment):
    body = bodies(deployment, "race", 1)[0]
    answers = deployment.post_alternately([], [body] * 25, concurrency=25)  # 25 connections to each API
    assert {r.status_code for batch in answers for r in batch} == {202}
    assert len({r.json()["id"] for batch in answers for r in batch}) == 1
    assert deployment.rows("SELECT COUNT(*) FROM event WHERE idempotency_key = %s", "race-0") == [(1,)]


def test_a_worker_killed_mid_run_and_restarted_loses_and_doubles_nothing(deployment, workers):
    keys = post_with_duplicates(deployment, bodies(deployment, "kill", 300))
    doomed = deployment.start_worker(deployment.directory / "kill-a.log")
    workers += [doomed, deployment.start_worker(deployment.directory / "kill-b.log")]
    assert wait_until(lambda: completed(deployment, "kill") >= 40, timeout_s=240), deployment.logs()
    assert deployment.stop_worker(doomed, signal.SIGKILL) == -signal.SIGKILL
    assert completed(deployment, "kill") < len(keys), "the workers finished before the kill: nothing was interrupted"
    workers.append(deployment.start_worker(deployment.directory / "kill-a-restarted.log"))
    assert wait_until(lambda: completed(deployment, "kill") == len(keys), timeout_s=240), deployment.logs()
    assert_exactly_once(deployment, "kill", keys, crashed=True)


def test_webhooks_reach_a_real_receiver_once_each(deployment, workers):
    from engine.webhooks import signing

    headers = {"X-API-Key": deployment.key}
    with Receiver() as receiver:
        created = httpx.post(
            f"{deployment.urls[0]}/v1/webhook-endpoints",
            json={"url": receiver.url, "enabled_events": ["*"]},
            headers=headers,
            timeout=30,
        )
        assert created.status_code == 201, created.text
        endpoint = created.json()
        try:
            receiver.fail_next = 3  # the first three attempts get a 503 and are retried
            keys = post_with_duplicates(deployment, bodies(deployment, "hook", 20, participants=20))
            workers += [deployment.start_worker(deployment.directory / f"hook-{n}.log") for n in range(2)]

            def delivered() -> list[tuple]:
                return deployment.rows(
                    "SELECT event_type, status FROM webhook_delivery WHERE endpoint_id = %s", endpoint["id"]
                )

            expected = sorted(["participant.created", "balance.credited", "event.completed"] * len(keys))
            assert wait_until(
                lambda: sorted(t for t, s in delivered() if s == "DELIVERED") == expected, timeout_s=240
            ), (delivered(), deployment.logs())
            assert completed(deployment, "hook") == len(keys)
            succeeded = receiver.requests[3:]
            assert len(receiver.requests) == len(expected) + 3
            assert len({request_headers["webhook-id"] for request_headers, _ in succeeded}) == len(expected)
            for request_headers, body in receiver.requests:
                signing.verify(endpoint["secret"], request_headers, body)
        finally:
            gone = httpx.delete(f"{deployment.urls[1]}/v1/webhook-endpoints/{endpoint['id']}", headers=headers)
            assert gone.status_code in (200, 204), gone.text
    verify = deployment.verify()
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_the_api_key_paths_answer_alike_from_either_process(deployment, workers):
    """Writes on one API process, reads and replays on the other: a program with an asset and a
    rule, a participant, a credit, a hold with its idempotent replay and its conflict, an event
    processed by a worker, the balances, the journal and an error envelope."""
    first, second = (
        httpx.Client(base_url=url, headers={"X-API-Key": deployment.key}, timeout=30) for url in deployment.urls
    )
    with first, second:
        program = first.post("/v1/programs", json={"name": "Scale-out"})
        assert program.status_code == 201, program.text
        program_id = program.json()["id"]
        assert second.get(f"/v1/programs/{program_id}").json() == program.json()
        asset = second.post("/v1/assets", json={"program_id": program_id, "name": "Miles", "symbol": "MI", "scale": 2})
        assert asset.status_code == 201, asset.text
        rule = first.post(
            "/v1/rules",
            json={
                "program_id": program_id,
                "name": "miles",
                "condition": "event.type == 'flight'",
                "actions": [{"type": "CREDIT", "asset_id": "MI", "amount": "event.km * 0.5"}],
            },
        )
        assert rule.status_code == 201, rule.text
        person = second.post("/v1/participants", json={"external_id": "keys_ada", "program_id": program_id})
        assert person.status_code == 201, person.text
        balances = f"/v1/participants/{person.json()['id']}/balances"
        credit = {"program_id": program_id, "asset_id": "MI", "type": "CREDIT", "amount": "100", "description": "gift"}
        assert first.post(f"{balances}/adjust", json=credit).json()["balance"]["available"] == "100.00"
        hold = {
            "program_id": program_id,
            "asset_id": "MI",
            "amount": "30",
            "description": "seat",
            "idempotency_key": "h1",
        }
        held = second.post(f"{balances}/hold", json=hold)
        assert held.status_code == 200 and held.json()["balance"]["held"] == "30.00", held.text
        replay = first.post(f"{balances}/hold", json=hold)
        assert replay.json()["journal_entry_id"] == held.json()["journal_entry_id"]
        conflict = second.post(f"{balances}/hold", json={**hold, "amount": "31"})
        assert conflict.status_code == 409 and conflict.json()["code"] == "idempotency_conflict"

        workers.append(deployment.start_worker(deployment.directory / "keys.log"))
        event = {
            "program_id": program_id,
            "external_id": "keys_ada",
            "idempotency_key": "keys-flight-1",
            "event_timestamp": "2026-01-01T12:00:00Z",
            "event_data": {"type": "flight", "km": 1234},
        }
        event_id = first.post("/v1/events", json=event).json()["id"]

        def status() -> str:
            return second.get(f"/v1/events/{event_id}").json()["status"]

        assert wait_until(lambda: status() == "COMPLETED", timeout_s=120), (status(), deployment.logs())
        expected = [{"asset_id": asset.json()["id"], "available": "687.00", "held": "30.00", "deferred": "0.00"}]
        assert first.get(balances).json()["data"] == second.get(balances).json()["data"] == expected
        journal = second.get("/v1/journal-entries", params={"participant_id": person.json()["id"], "limit": 2}).json()
        rest = first.get(
            "/v1/journal-entries",
            params={"participant_id": person.json()["id"], "limit": 2, "cursor": journal["pagination"]["next_cursor"]},
        ).json()
        entries = [entry["id"] for entry in journal["data"] + rest["data"]]
        assert len(entries) == len(set(entries)) == 3  # the credit, the hold, the event's miles
        refused = first.post("/v1/events", json={**event, "idempotency_key": ""})
        assert refused.status_code == 400 and set(refused.json()) == {"code", "message", "details"}
    verify = deployment.verify()
    assert verify.returncode == 0, verify.stdout + verify.stderr
