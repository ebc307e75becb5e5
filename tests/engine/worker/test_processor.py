"""Processing: claim, apply once, complete; fencing; retries with backoff; business failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from engine.errors import EngineError
from engine.store import lanes
from engine.store.db import utcnow
from engine.store.lanes import lane_of
from engine.store.models import EventRecord, JournalEntry, WebhookDelivery, WebhookEndpoint
from engine.worker import processor
from tests.engine.consumer import FAST

from .pipelines import CreditOnePoint


def entries_of(event_id: str) -> int:
    return JournalEntry.select().where(JournalEntry.event_id == event_id).count()


def reload(event):
    return EventRecord.get_by_id(event.id)


@contextmanager
def statements_run(db) -> Iterator[list[str]]:
    """The first word of every SQL statement `db` runs inside the block, in order."""
    statements: list[str] = []
    real = db.execute_sql

    def recording(sql, params=None, *args, **kwargs):
        statements.append(sql.split()[0].upper())
        return real(sql, params, *args, **kwargs)

    db.execute_sql = recording
    try:
        yield statements
    finally:
        del db.execute_sql


def test_a_program_s_events_of_no_participant_have_a_lane_of_their_own(queue, world):
    from engine.store.lanes import Lane
    from engine.worker.pipeline import Applied, default_pipeline
    from tests.engine.world import store_event

    base = datetime(2026, 3, 1, tzinfo=UTC)
    late, early, alice = (store_event(world, key=key, created_at=utcnow()) for key in ("late", "early", "alice"))
    for event, at in ((late, base + timedelta(hours=1)), (early, base), (alice, base)):
        EventRecord.update(event_timestamp=at).where(EventRecord.id == event.id).execute()
    nobody = {"participant": None, "external_id": None, "event_type": "SYSTEM"}
    EventRecord.update(**nobody).where(EventRecord.id.in_([late.id, early.id])).execute()
    late = reload(late)
    lane = lane_of(late)
    assert lane == Lane.of_program(world.org.id, world.program.id) and lane.key != lane_of(alice).key
    seen: list[str] = []

    def record_only(event: EventRecord) -> Applied:
        seen.append(event.id)
        return default_pipeline(event)  # no rules: completes with nothing to apply

    assert processor.drain_lane(lane, FAST, record_only) == 2
    assert seen == [early.id, late.id]  # in timestamp order; alice's lane untouched
    assert (reload(late).status, reload(alice).status) == ("COMPLETED", "PENDING")


def test_a_pending_event_is_applied_once_and_completed(queue, world):
    event = world.event(key="e1")
    pipeline = CreditOnePoint()
    assert processor.drain_lane(lane_of(event), FAST, pipeline) == 1
    assert processor.drain_lane(lane_of(event), FAST, pipeline) == 0  # a second wake-up: no-op
    row = reload(event)
    assert (row.status, row.attempts, row.error_code) == ("COMPLETED", 1, None)
    assert row.processed_at is not None and row.next_attempt_at is None
    assert entries_of(event.id) == 1 and pipeline.seen == [event.id]


def test_a_lane_runs_in_event_timestamp_order_whatever_the_wakeup(queue, world):
    base = datetime(2026, 3, 1, tzinfo=UTC)
    late = world.event(key="late", at=base + timedelta(hours=2))
    early = world.event(key="early", at=base)
    middle = world.event(key="middle", at=base + timedelta(hours=1))
    other = world.event("bob", key="bob", at=base)
    pipeline = CreditOnePoint()
    assert processor.drain_lane(lane_of(late), FAST, pipeline) == 3
    assert pipeline.seen == [early.id, middle.id, late.id]  # bob's lane untouched
    assert reload(other).status == "PENDING"


def test_a_busy_lane_is_left_to_its_worker(queue, world):
    first = world.event(key="a", at=datetime(2026, 1, 1, tzinfo=UTC))
    second = world.event(key="b", at=datetime(2026, 1, 2, tzinfo=UTC))
    claim = lanes.claim_next(lane_of(first), lease_s=30)
    assert claim.event_id == first.id and claim.attempt == 1
    assert processor.drain_lane(lane_of(second), FAST, CreditOnePoint()) == 0
    assert reload(second).status == "PENDING"


def test_an_expired_lease_no_longer_blocks_the_lane(queue, world):
    first = world.event(key="a", at=datetime(2026, 1, 1, tzinfo=UTC))
    world.event(key="b", at=datetime(2026, 1, 2, tzinfo=UTC))
    lanes.claim_next(lane_of(first), lease_s=30)
    later = utcnow() + timedelta(seconds=31)
    second_claim = lanes.claim_next(lane_of(first), lease_s=30, now=later)
    assert second_claim is not None and second_claim.event_id != first.id


def test_a_worker_whose_claim_was_taken_over_writes_nothing(queue, world):
    event = world.event(key="e1")
    stale = lanes.claim_next(lane_of(event), lease_s=30)
    # The lease ran out, the reconciler handed the event back, and another worker took it.
    EventRecord.update(status="PENDING", next_attempt_at=None).where(EventRecord.id == event.id).execute()
    fresh = lanes.claim_next(lane_of(event), lease_s=30)
    assert fresh.attempt == stale.attempt + 1
    pipeline = CreditOnePoint()
    assert processor.process_claim(stale, FAST, pipeline) is None
    assert entries_of(event.id) == 0
    assert processor.process_claim(fresh, FAST, pipeline) == "COMPLETED"
    assert entries_of(event.id) == 1


def test_unexpected_errors_retry_then_fail(queue, world):
    event = world.event(key="e1")
    queue.huey.flush()
    pipeline = CreditOnePoint(fail_with=RuntimeError("disk on fire"))
    # Zero backoff: the retries are due at once, so the same drain makes every attempt.
    assert processor.drain_lane(lane_of(event), FAST, pipeline) == FAST.event_max_attempts
    row = reload(event)
    assert (row.status, row.attempts, row.error_code) == ("FAILED", FAST.event_max_attempts, "processing_error")
    assert "RuntimeError: disk on fire" in row.error_message
    assert entries_of(event.id) == 0  # every attempt rolled back
    # Each retry wrote its wake-up with the failure record.
    assert [t.args for t in queue.huey.pending()] == [(event.id,)] * (FAST.event_max_attempts - 1)


def test_backoff_delays_the_next_attempt(queue, world):
    settings = type(FAST)(event_retry_delays_s=(2, 4), event_lease_s=30)
    event = world.event(key="e1")
    processor.drain_lane(lane_of(event), settings, CreditOnePoint(fail_with=RuntimeError("x")))
    row = reload(event)
    assert (row.status, row.attempts) == ("PENDING", 1)
    assert 1.5 < (row.next_attempt_at - utcnow()).total_seconds() <= 2
    assert processor.drain_lane(lane_of(event), settings, CreditOnePoint()) == 0  # not due yet
    assert lanes.claim_next(lane_of(event), lease_s=30, now=utcnow() + timedelta(seconds=2)) is not None


def test_business_errors_fail_at_once_with_their_code_and_a_webhook(queue, world):
    WebhookEndpoint.create(
        organisation=world.org, url="http://127.0.0.1:1/h", secret="whsec_x", enabled_events=["event.failed"]
    )
    event = world.event(key="e1")
    error = EngineError("program is not ACTIVE", code="program_inactive")
    processor.drain_lane(lane_of(event), FAST, CreditOnePoint(fail_with=error))
    row = reload(event)
    assert (row.status, row.attempts, row.error_code, row.error_message) == (
        "FAILED",
        1,
        "program_inactive",
        "program is not ACTIVE",
    )
    assert entries_of(event.id) == 0
    (delivery,) = WebhookDelivery.select()
    assert delivery.event_type == "event.failed"
    assert delivery.message.payload["data"]["error_code"] == "program_inactive"


def test_completion_records_webhooks_in_the_same_transaction(queue, world):
    WebhookEndpoint.create(organisation=world.org, url="http://127.0.0.1:1/h", secret="whsec_x", enabled_events=["*"])
    event = world.event(key="e1")
    queue.huey.flush()
    processor.drain_lane(lane_of(event), FAST, CreditOnePoint())
    types = sorted(d.event_type for d in WebhookDelivery.select())
    assert types == ["balance.credited", "event.completed"]
    assert [t.name for t in queue.huey.pending()] == ["deliver_webhook", "deliver_webhook"]


def test_a_missing_event_is_a_no_op(queue, world, db):
    """A wake-up for an event that is not there (rolled back, or deleted) only looks it up: it
    processes no lane, not even one with an event waiting, and writes nothing."""
    waiting = world.event(key="e1")
    pending = queue.huey.pending_count()
    with statements_run(db) as statements:
        processor.process_event_task(queue, "no-such-event")
    assert statements == ["SELECT"]
    assert (reload(waiting).status, reload(waiting).attempts) == ("PENDING", 0)
    assert JournalEntry.select().count() == 0 and WebhookDelivery.select().count() == 0
    assert queue.huey.pending_count() == pending == 1


# --- the real pipeline: storage's context and effects around the pure engine -------------------


def balance_of(person) -> str:
    from engine.store.ledger.accounts import balances_of
    from engine.store.models import PARTICIPANT

    balances = balances_of(PARTICIPANT, person.id)
    return str(sum((b.available for b in balances.values()), start=0))


def test_the_real_pipeline_credits_once_and_reports_it(queue, world):
    world.rule(amount="event.amount")
    WebhookEndpoint.create(organisation=world.org, url="http://127.0.0.1:1/h", secret="whsec_x", enabled_events=["*"])
    event = world.event(key="e1", amount=5.0)
    processor.process_event_task(queue, event.id)
    processor.process_event_task(queue, event.id)  # a duplicate wake-up
    row = reload(event)
    assert (row.status, row.attempts, row.participant_id) == ("COMPLETED", 1, world.alice.id)
    assert entries_of(event.id) == 1 and balance_of(world.alice) == "5"
    types = sorted(d.event_type for d in WebhookDelivery.select())
    assert types == ["balance.credited", "event.completed"]
    credited = WebhookDelivery.get(WebhookDelivery.event_type == "balance.credited").message.payload["data"]
    assert (credited["amount"], credited["asset"], credited["participant_id"]) == ("5", "PTS", world.alice.id)


def test_an_unknown_participant_is_created_with_the_events_effects(queue, world):
    world.rule()
    WebhookEndpoint.create(
        organisation=world.org, url="http://127.0.0.1:1/h", secret="whsec_x", enabled_events=["participant.created"]
    )
    event = world.event("carol", key="e1", amount=2.0)
    processor.process_event_task(queue, event.id)
    from engine.store.models import Enrolment, Participant

    carol = Participant.get(Participant.external_id == "carol")
    assert reload(event).status == "COMPLETED" and balance_of(carol) == "2"
    assert Enrolment.select().where((Enrolment.participant == carol) & (Enrolment.program == world.program)).exists()
    (delivery,) = WebhookDelivery.select()
    assert delivery.message.payload["data"]["participant_id"] == carol.id


def test_a_rejecting_program_fails_the_event_and_creates_nobody(queue, world):
    from engine.store.models import Participant, Program

    Program.update(on_unknown_participant="REJECT").execute()
    world.rule()
    event = world.event("mallory", key="e1")
    processor.process_event_task(queue, event.id)
    row = reload(event)
    assert (row.status, row.error_code, row.attempts) == ("FAILED", "unknown_participant", 1)
    assert "mallory" in row.error_message
    assert not Participant.select().where(Participant.external_id == "mallory").exists()


def test_an_inactive_program_fails_the_event(queue, world):
    from engine.store.models import Program

    world.rule()
    Program.update(status="SUSPENDED").execute()
    event = world.event(key="e1")
    processor.process_event_task(queue, event.id)
    assert (reload(event).status, reload(event).error_code) == ("FAILED", "program_inactive")


def test_a_refused_action_fails_the_event_with_nothing_applied(queue, world):
    world.rule("spend", action="DEBIT", amount="event.amount")
    event = world.event(key="e1", amount=3.0)
    processor.process_event_task(queue, event.id)
    row = reload(event)
    assert (row.status, row.error_code) == ("FAILED", "insufficient_funds")
    assert entries_of(event.id) == 0 and row.attempts == 1


def test_threads_draining_the_same_lanes_apply_each_event_once_in_order(queue, world):
    import threading

    world.rule(amount="event.amount")
    base = datetime(2026, 5, 1, tzinfo=UTC)
    events = [
        world.event(f"p{n % 3}", key=f"e{n}", at=base + timedelta(minutes=(37 * n) % 50), amount=1.0) for n in range(30)
    ]

    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for event in events[offset::4] + events[:offset]:
                processor.process_event_task(queue, event.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert {reload(e).status for e in events} == {"COMPLETED"}
    assert {entries_of(e.id) for e in events} == {1}
    posted = (
        JournalEntry.select(JournalEntry.sequence, EventRecord.external_id, EventRecord.event_timestamp)
        .join(EventRecord, on=(JournalEntry.event_id == EventRecord.id))
        .order_by(JournalEntry.sequence)
        .objects()
    )
    lanes: dict[str, list] = {}
    for row in posted:
        lanes.setdefault(row.external_id, []).append(row.event_timestamp)
    assert all(stamps == sorted(stamps) for stamps in lanes.values()) and len(lanes) == 3


def test_immediate_mode_processes_right_after_the_ingest_commit(db, world):
    from engine.queue import configure_queue

    configure_queue(db, "memory://", FAST)
    world.rule(amount="event.amount")
    event = world.event(key="e1", amount=4.0)  # the wake-up runs in this thread after the commit
    assert (reload(event).status, entries_of(event.id), balance_of(world.alice)) == ("COMPLETED", 1, "4")


def test_completing_an_event_claims_the_lanes_next_in_the_same_commit(queue, world):
    first = world.event(key="a", at=datetime(2026, 1, 1, tzinfo=UTC))
    second = world.event(key="b", at=datetime(2026, 1, 2, tzinfo=UTC))
    world.event("bob", key="bob")
    claim = lanes.claim_next(lane_of(first), lease_s=30)
    status, following = processor.attempt(claim, FAST, CreditOnePoint(), claim_next_in=True)
    assert status == "COMPLETED"
    assert following is not None and (following.event_id, following.attempt) == (second.id, 1)
    row = reload(second)
    assert row.status == "PROCESSING" and row.attempts == 1 and row.next_attempt_at > utcnow()
    # The lane is empty now: nothing further is claimed with the second one.
    assert processor.attempt(following, FAST, CreditOnePoint(), claim_next_in=True) == ("COMPLETED", None)


def test_an_attempt_that_rolls_back_claims_nothing_more(queue, world):
    first = world.event(key="a", at=datetime(2026, 1, 1, tzinfo=UTC))
    second = world.event(key="b", at=datetime(2026, 1, 2, tzinfo=UTC))
    claim = lanes.claim_next(lane_of(first), lease_s=30)
    status, following = processor.attempt(
        claim, FAST, CreditOnePoint(fail_with=RuntimeError("boom")), claim_next_in=True
    )
    assert (status, following) == ("PENDING", None)  # retried later; its successor still waits
    assert reload(second).status == "PENDING" and reload(second).attempts == 0
    assert entries_of(first.id) == 0


def test_a_drained_lane_is_seen_without_a_write(queue, world, db):
    event = world.event(key="a")
    lane = lane_of(event)
    assert lanes.has_due(lane)
    processor.drain_lane(lane, FAST, CreditOnePoint())
    assert not lanes.has_due(lane)
    with statements_run(db) as statements:
        assert processor.drain_lane(lane, FAST, CreditOnePoint()) == 0
    assert statements == ["SELECT"]


def test_claiming_only_a_given_event_takes_nothing_when_another_comes_first(queue, world):
    """After a failed attempt rolled its own claim back, the failure is recorded only if that
    event is still the lane's next: never on an earlier event that arrived meanwhile."""
    base = datetime(2026, 3, 1, tzinfo=UTC)
    late = world.event(key="late", at=base + timedelta(hours=1))
    early = world.event(key="early", at=base)
    assert lanes.claim_next(lane_of(late), lease_s=30, only=late.id) is None
    assert (reload(late).status, reload(early).status) == ("PENDING", "PENDING")
    claim = lanes.claim_next(lane_of(late), lease_s=30, only=early.id)
    assert claim is not None and claim.event_id == early.id and reload(early).status == "PROCESSING"


def test_a_lane_is_awake_while_an_event_is_due_or_held_under_a_live_lease(queue, world):
    event = world.event(key="e1")
    lane = lane_of(event)
    assert lanes.lane_is_awake(lane)  # due PENDING: its wake-up will drain the lane
    claim = lanes.claim_next(lane, lease_s=30)
    assert lanes.lane_is_awake(lane)  # PROCESSING: its worker claims the next event
    assert not lanes.lane_is_awake(lane, now=utcnow() + timedelta(seconds=31))  # the lease has run out
    processor.record_failure(claim, type(FAST)(event_retry_delays_s=(5,), event_lease_s=30), "x", "boom", retry=True)
    # a PENDING event waiting for its retry is not due: a new event needs a wake-up of its own
    assert not lanes.lane_is_awake(lane)
    assert lanes.lane_is_awake(lane, now=utcnow() + timedelta(seconds=6))


class FailsOn(CreditOnePoint):
    """Credits like `CreditOnePoint`, but raises `error` (after writing) on the event keyed `key`."""

    def __init__(self, key: str, error: BaseException) -> None:
        super().__init__()
        self.key, self.error = key, error

    def __call__(self, event: EventRecord):
        applied = super().__call__(event)
        if event.idempotency_key == self.key:
            raise self.error
        return applied


def counting_commits(db) -> list[int]:
    commits: list[int] = []
    real = db.commit

    def commit():
        commits.append(1)
        return real()

    db.commit = commit
    return commits


def backlog(world, count: int) -> list[EventRecord]:
    base = datetime(2026, 4, 1, tzinfo=UTC)
    return [world.event(key=f"e{n}", at=base + timedelta(minutes=n)) for n in range(count)]


def test_a_backlog_shares_commits_and_a_failed_event_rolls_back_alone(queue, world, db, monkeypatch):
    monkeypatch.setattr(processor, "COMMIT_AFTER_S", 60)
    events = backlog(world, 5)
    commits = counting_commits(db)
    try:
        pipeline = FailsOn("e2", EngineError("refused", code="program_inactive"))
        assert processor.drain_lane(lane_of(events[0]), FAST, pipeline) == 5
    finally:
        del db.commit
    assert len(commits) == 1  # one group: five events, one commit
    assert [reload(e).status for e in events] == ["COMPLETED", "COMPLETED", "FAILED", "COMPLETED", "COMPLETED"]
    assert [entries_of(e.id) for e in events] == [1, 1, 0, 1, 1]


def test_a_group_is_bounded_by_events_and_by_time(queue, world, db, monkeypatch):
    events = backlog(world, 5)
    monkeypatch.setattr(processor, "COMMIT_AFTER_S", 60)
    monkeypatch.setattr(processor, "EVENTS_PER_COMMIT", 2)
    commits = counting_commits(db)
    try:
        assert processor.drain_lane(lane_of(events[0]), FAST, CreditOnePoint()) == 5
        assert len(commits) == 3  # 2 + 2 + 1
        more = [world.event(key=f"late{n}", at=datetime(2026, 5, 1, n, tzinfo=UTC)) for n in range(3)]
        monkeypatch.setattr(processor, "COMMIT_AFTER_S", 0)  # no time to share: a commit each
        commits.clear()
        assert processor.drain_lane(lane_of(more[0]), FAST, CreditOnePoint()) == 3
        assert len(commits) == 3
    finally:
        del db.commit
    assert all(reload(e).status == "COMPLETED" and entries_of(e.id) == 1 for e in [*events, *more])


def test_a_crash_inside_a_group_leaves_all_of_its_events_pending(queue, world, monkeypatch):
    """Nothing of a group is written before its commit: a worker killed mid-group (here, an
    exception no attempt catches) leaves every event of the group to be processed again."""
    monkeypatch.setattr(processor, "COMMIT_AFTER_S", 60)
    events = backlog(world, 4)
    try:
        processor.drain_lane(lane_of(events[0]), FAST, FailsOn("e2", KeyboardInterrupt()))
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the interrupt was swallowed")
    assert [(reload(e).status, reload(e).attempts, entries_of(e.id)) for e in events] == [("PENDING", 0, 0)] * 4
    assert processor.drain_lane(lane_of(events[0]), FAST, CreditOnePoint()) == 4
    assert [(reload(e).status, entries_of(e.id)) for e in events] == [("COMPLETED", 1)] * 4


def test_a_group_reads_its_program_and_endpoints_once_and_trusts_the_claims_it_took(queue, world, db, monkeypatch):
    monkeypatch.setattr(processor, "COMMIT_AFTER_S", 60)
    world.rule(amount="event.amount")
    WebhookEndpoint.create(organisation=world.org, url="http://127.0.0.1:1/h", secret="whsec_x", enabled_events=["*"])
    events = backlog(world, 5)
    sent: list[str] = []
    real = db.execute_sql
    db.execute_sql = lambda sql, params=None, *args, **kwargs: sent.append(sql) or real(sql, params, *args, **kwargs)
    try:
        assert processor.drain_lane(lane_of(events[0]), FAST) == 5
    finally:
        del db.execute_sql
    assert sum(sql.startswith('SELECT "id", "created_at", "updated_at", "organisation_id", "key"') for sql in sent) == 1
    assert sum('FROM "webhook_endpoint"' in sql for sql in sent) == 1
    assert not any(sql.startswith("SELECT id FROM event WHERE id =") for sql in sent)  # every claim taken here
    assert [reload(e).status for e in events] == ["COMPLETED"] * 5 and balance_of(world.alice) == "5"
    assert WebhookDelivery.select().count() == 10  # balance.credited and event.completed, each event
