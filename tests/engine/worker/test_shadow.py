"""Shadow mode through the real worker pipeline: events of a program with a shadow are processed
live as ever, then evaluated once under the shadow, which writes only `shadow_evaluation` rows."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from engine.model.bundle import Counter, Rule
from engine.rules.loader import load_bundle_text
from engine.store.catalog import create_rule
from engine.store.lanes import lane_of
from engine.store.ledger.verify import verify
from engine.store.models import (
    Account,
    EventRecord,
    JournalEntry,
    Posting,
    Program,
    ShadowEvaluation,
    ShadowRuleset,
    StateCounter,
    StateHistory,
)
from engine.store.shadows import clear_shadow, set_shadow
from engine.worker import processor
from engine.worker import shadow as shadow_worker
from engine.worker.pipeline import default_pipeline
from tests.engine.consumer import drain

SHADOW = """
program: {{key: loyalty, name: Loyalty}}
assets:
  - {{symbol: PTS, name: Points, scale: 0}}
rules:
  - name: earn
    condition: "{condition}"
    actions:
      - {{type: CREDIT, asset_id: PTS, amount: "{amount}"}}
"""

LIVE_TABLES = (Account, JournalEntry, Posting, StateCounter, StateHistory)


def shadow_of(world, *, amount: str = "event.amount * 3.0", condition: str = "true") -> ShadowRuleset:
    bundle = load_bundle_text(SHADOW.format(amount=amount, condition=condition)).bundle
    assert bundle is not None
    data = msgspec.to_builtins(bundle)
    return set_shadow(world.org.id, world.program.id, data, rule_count=len(bundle.rules))


def row_counts() -> dict[str, int]:
    return {model._meta.table_name: model.select().count() for model in LIVE_TABLES}


def balance(world, who) -> Decimal:
    account = Account.get_or_none((Account.entity_id == who.id) & (Account.asset == world.pts.id))
    return Decimal(0) if account is None else account.balance


@pytest.fixture
def earning(world, queue):
    world.rule("earn", amount="event.amount")
    return world


def test_an_event_writes_one_shadow_evaluation_and_the_ledger_the_live_rules_wrote(earning, queue):
    shadow = shadow_of(earning)
    earning.event("alice", key="k1", amount=2.0)
    drain(queue)
    assert EventRecord.get().status == "COMPLETED"
    assert balance(earning, earning.alice) == Decimal(2)  # the live rule's credit, not the shadow's 6
    (row,) = ShadowEvaluation.select()
    assert (row.shadow_id, row.status, row.differs) == (shadow.id, "COMPLETED", True)
    assert row.live_flows == {"PTS": {"credited": "2", "debited": "0", "held": "0", "forfeited": "0"}}
    assert row.shadow_flows["PTS"]["credited"] == "6"
    assert verify().ok


def test_the_shadow_changes_no_live_row_and_a_second_write_of_an_event_is_skipped(earning, queue, monkeypatch):
    shadow_of(earning)
    jobs = []
    monkeypatch.setattr(shadow_worker, "record_evaluations", lambda rows: 0)  # keep the first write back

    def keeping(record):
        applied = default_pipeline(record)
        jobs.append(applied.shadow)
        return applied

    event = earning.event("alice", key="k1", amount=2.0, enqueue=False)
    processor.drain_lane(lane_of(event), queue.settings, keeping)
    monkeypatch.undo()
    live = row_counts()
    assert shadow_worker.run_shadows(jobs) == 1
    assert shadow_worker.run_shadows(jobs) == 0  # a retry, or another worker: the unique key holds
    assert ShadowEvaluation.select().count() == 1
    assert row_counts() == live and verify().ok


def test_the_shadow_sees_the_state_the_live_evaluation_started_from(earning, queue):
    """A counter the live rule bumps: the shadow reads it as it was before the live write."""
    create_rule(
        earning.org.id,
        earning.program.id,
        Rule(name="count", condition="true", actions=[Counter(key="visits", value="1")]),
    )
    shadow_of(earning, condition="get(participant.counters, 'visits', 0) == 0", amount="100")
    for key in ("k1", "k2"):
        earning.event("alice", key=key, amount=1.0)
        drain(queue)
    credited = [
        row.shadow_flows.get("PTS", {}).get("credited")
        for row in ShadowEvaluation.select().order_by(ShadowEvaluation.id)
    ]
    assert credited == ["100", None]  # first event: visits was 0 before the live write; then 1


def test_a_shadow_that_cannot_compile_is_recorded_and_the_event_completes(earning, queue):
    shadow = shadow_of(earning)
    broken = dict(shadow.bundle)
    broken["rules"] = [{**broken["rules"][0], "condition": "event.amount >"}]
    ShadowRuleset.update(bundle=broken).where(ShadowRuleset.id == shadow.id).execute()
    earning.event("alice", key="k1", amount=2.0)
    drain(queue)
    assert EventRecord.get().status == "COMPLETED" and balance(earning, earning.alice) == Decimal(2)
    (row,) = ShadowEvaluation.select()
    assert (row.status, row.error_code, row.differs) == ("ERROR", "shadow_compile_error", True)
    assert "rules.0.condition" in row.error_message


def test_an_event_after_the_shadow_is_cleared_is_not_evaluated(earning, queue):
    shadow_of(earning)
    clear_shadow(earning.org.id, earning.program.id)
    assert Program.get_by_id(earning.program.id).shadow_id is None
    earning.event("alice", key="k1", amount=2.0)
    drain(queue)
    assert EventRecord.get().status == "COMPLETED" and ShadowEvaluation.select().count() == 0
