"""`accrual backtest` over a real recorded history, on SQLite and PostgreSQL: an identical
candidate gives no difference, a changed multiplier exactly the expected per-participant
differences, a counter-dependent rule replays in order from the state ahead of the window, and
nothing is written."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.model.bundle import Counter, Credit, Rule
from engine.queue import configure_queue, reset_queue
from engine.store.catalog import create_rule
from engine.store.db import close_all, connect, utcnow
from engine.store.ledger.verify import verify as verify_ledger
from engine.store.migrations import upgrade
from engine.worker.tasks import register_task_bodies
from tests.databases import BACKENDS, empty_database_url
from tests.engine.consumer import FAST, drain
from tests.engine.world import World

BUNDLE = """
program: {{key: loyalty, name: Loyalty}}
assets:
  - {{symbol: PTS, name: Points, scale: 2}}
rules:
  - name: visit
    order: 10
    condition: "true"
    actions:
      - {{type: COUNTER, key: visits, value: 1}}
  - name: earn
    order: 20
    condition: "true"
    actions:
      - {{type: CREDIT, asset_id: PTS, amount: "event.amount * {multiplier}"}}
  - name: regular
    order: 30
    condition: 'get(participant.counters, "visits", 0.0) >= {visits}.0'
    actions:
      - {{type: CREDIT, asset_id: PTS, amount: "100"}}
"""
TABLES = ("event", "journal_entry", "posting", "account", "state_history", "state_counter", "rule_evaluation")


@pytest.fixture(params=BACKENDS)
def history(request, tmp_path):
    """A program with three rules and recorded events: alice 10 then 5 then 1, bob 20; the
    moment between alice's first event and the rest is `split`."""
    url = empty_database_url(request.param, tmp_path)
    db = connect(url)
    upgrade(db)
    with db.connection_context():
        register_task_bodies()
        queue = configure_queue(db, None, FAST)
        world = World()
        create_rule(world.org.id, world.program.id, _rule("visit", 10, Counter(key="visits", value="1")))
        create_rule(world.org.id, world.program.id, _rule("earn", 20, Credit(asset_id="PTS", amount="event.amount")))
        create_rule(
            world.org.id,
            world.program.id,
            _rule(
                "regular", 30, Credit(asset_id="PTS", amount="100"), 'get(participant.counters, "visits", 0.0) >= 2.0'
            ),
        )
        world.event("alice", key="a1", amount=10.0)
        drain(queue)
        split = utcnow()
        for name, key, amount in (("alice", "a2", 5.0), ("bob", "b1", 20.0), ("alice", "a3", 1.0)):
            world.event(name, key=key, amount=amount)
            drain(queue)
        program_id = world.program.id
    reset_queue()
    close_all(db)
    yield {"url": url, "program": program_id, "split": split, "dir": tmp_path}


def _rule(name: str, order: int, action, condition: str = "true") -> Rule:
    return Rule(name=name, order=order, condition=condition, actions=[action])


def _bundle(history, multiplier: str = "1.0", visits: int = 2) -> str:
    path = history["dir"] / f"candidate-{multiplier}-{visits}.yaml"
    path.write_text(BUNDLE.format(multiplier=multiplier, visits=visits))
    return str(path)


def _backtest(history, *args: str):
    return CliRunner().invoke(
        main, ["backtest", *args, "--program", history["program"], "--database-url", history["url"]]
    )


def _counts(url: str) -> dict[str, int]:
    db = connect(url)
    try:
        with db.connection_context():
            return {table: db.execute_sql(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in TABLES}
    finally:
        close_all(db)


def _balances(report: dict) -> dict[str, list[str]]:
    return {change["external_id"]: change["balances"]["PTS"]["available"] for change in report["participant_changes"]}


def test_an_identical_candidate_gives_no_difference_and_reproduces_the_record(history):
    result = _backtest(history, _bundle(history), "--json", "--fail-on", "participants=0", "--fail-on", "mismatches=0")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["empty"] is True and report["reproduced"] is True and report["mismatches"] == 0
    assert report["events"] == 4 and report["participants"] == 2 and report["participant_changes"] == []
    assert {change["rule"]: change["before"] for change in report["rules"]}["earn"] == {
        "matched": 4,
        "skipped": 0,
        "erroring": 0,
    }


def test_a_changed_multiplier_gives_exactly_the_expected_differences(history):
    before = _counts(history["url"])
    result = _backtest(history, _bundle(history, multiplier="2.0"), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # alice: 10 + 5 + 100 (second visit) + 1 + 100 (third) = 216, doubled earn: 232; bob: 20 -> 40
    assert _balances(report) == {"alice": ["216.00", "232.00"], "bob": ["20.00", "40.00"]}
    assert [change["external_id"] for change in report["participant_changes"]] == ["bob", "alice"]  # largest first
    (pts,) = report["assets"]
    assert Decimal(pts["before"]["credited"]) == 236 and Decimal(pts["after"]["credited"]) == 272
    assert Decimal(pts["liability_change"]) == 36
    assert report["changed_events"] == 4 and report["reproduced"] is True
    assert _counts(history["url"]) == before  # nothing written
    db = connect(history["url"])
    try:
        with db.connection_context():
            assert verify_ledger().ok  # what `accrual verify` checks
    finally:
        close_all(db)


def test_a_window_starts_from_the_state_ahead_of_it_and_replays_counters_in_order(history):
    start = history["split"].isoformat()
    result = _backtest(history, _bundle(history, visits=3), "--from", start, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["events"] == 3 and report["reproduced"] is True
    # alice starts at 10 PTS and 1 visit: her second visit no longer earns the 100, her third does
    assert _balances(report) == {"alice": ["216.00", "116.00"]}
    regular = {change["rule"]: change for change in report["rules"]}["regular"]
    assert regular["before"]["matched"] == 2 and regular["after"]["matched"] == 1


def test_the_table_and_the_fail_on_thresholds(history):
    table = _backtest(history, _bundle(history, multiplier="2.0"), "--fail-on", "liability=35.99")
    assert table.exit_code == 1
    assert "baseline reproduces every recorded outcome" in table.stdout
    rows = [line.split() for line in table.stdout.splitlines()]
    assert ["PTS", "liability", "+36.00"] in rows and ["PTS", "credited", "236.00", "272.00", "+36.00"] in rows
    assert "bob: PTS.available 20.00 -> 40.00" in table.stdout
    assert "fail-on crossed: liability 36.00 > 35.99" in table.stderr
    assert _backtest(history, _bundle(history, multiplier="2.0"), "--fail-on", "liability=36").exit_code == 0


def test_an_edited_rule_is_reported_as_not_reproduced(history):
    baseline = _bundle(history, multiplier="3.0")
    result = _backtest(history, _bundle(history), "--against", baseline, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["reproduced"] is False and report["mismatches"] == 4
    sample = report["mismatch_samples"][0]
    assert sample["recorded"]["status"] == "COMPLETED" and sample["recorded"] != sample["replayed"]


def test_bad_input_is_refused_clearly(history, tmp_path):
    bundle = _bundle(history)
    both = _backtest(history, bundle, "--last", "2", "--from", "2026-01-01T00:00:00Z")
    assert both.exit_code == 2 and "not both" in both.output
    naive = _backtest(history, bundle, "--from", "2026-01-01T00:00:00")
    assert naive.exit_code == 2 and "with its offset" in naive.output
    threshold = _backtest(history, bundle, "--fail-on", "rows=1")
    assert threshold.exit_code == 2 and "is not one of" in threshold.output
    empty = _backtest(history, bundle, "--from", "2099-01-01T00:00:00Z")
    assert empty.exit_code == 1 and "empty_window" in empty.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("program: {key: x, name: X}\nrules:\n  - name: r\n    condition: 'true &&'\n    actions: []\n")
    refused = _backtest(history, str(broken))
    assert refused.exit_code == 1 and "candidate bundle" in refused.output
    unknown = CliRunner().invoke(main, ["backtest", bundle, "--program", "nope", "--database-url", history["url"]])
    assert unknown.exit_code == 1 and "program_not_found" in unknown.output
