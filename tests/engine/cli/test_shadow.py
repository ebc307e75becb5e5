"""`accrual apply --shadow / --promote-shadow / --shadow --clear` and `accrual shadow report` on
a database whose worker processed real events: the report shows the
shadow's exact difference, the ledger holds only what the live rules did, promote swaps the rules."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.model.bundle import Credit, Rule
from engine.queue import configure_queue, reset_queue
from engine.store.catalog import create_rule
from engine.store.db import close_all, connect
from engine.store.migrations import upgrade
from engine.store.models import Organisation, Program
from engine.worker.tasks import register_task_bodies
from tests.databases import empty_database_url
from tests.engine.consumer import FAST, drain
from tests.engine.world import World

SHADOW = """
program: {key: loyalty, name: Loyalty}
assets:
  - {symbol: PTS, name: Points, scale: 2}
rules:
  - name: earn
    condition: "true"
    actions:
      - {type: CREDIT, asset_id: PTS, amount: "event.amount * 2.0"}
"""
LIVE_TABLES = ("journal_entry", "posting", "account", "state_history", "rule_evaluation")


@pytest.fixture
def store(tmp_path):
    # SQLite: the worker and API shadow tests run on both databases; here, on PostgreSQL, a
    # connection of the report command's pool is reported unclosed under pytest only (not reproduced
    # outside it), so the command line is covered on SQLite
    url = empty_database_url("sqlite", tmp_path)
    db = connect(url)
    upgrade(db)
    with db.connection_context():
        world = World()
        earn = Rule(name="earn", condition="true", actions=[Credit(asset_id="PTS", amount="event.amount")])
        create_rule(world.org.id, world.program.id, earn)
        program_id = world.program.id
    close_all(db)
    path = tmp_path / "shadow.yaml"
    path.write_text(SHADOW)
    yield {"url": url, "program": program_id, "file": str(path)}
    reset_queue()


def accrual(store, *args: str):
    return CliRunner().invoke(main, [*args, "--database-url", store["url"]])


def process(store, *events: tuple[str, str, float]) -> dict[str, int]:
    """Ingest and process the events with the worker's pipeline; the live tables' row counts."""
    db = connect(store["url"])
    try:
        with db.connection_context():
            register_task_bodies()
            queue = configure_queue(db, None, FAST)
            world = World.__new__(World)  # the organisation and program made by the fixture
            world.org = Organisation.get(Organisation.name == "acme")
            world.program = Program.get_by_id(store["program"])
            for who, key, amount in events:
                world.event(who, key=key, amount=amount)
                drain(queue)
            return {table: db.execute_sql(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in LIVE_TABLES}
    finally:
        reset_queue()
        close_all(db)


@pytest.fixture
def shadowed(store):
    """The shadow applied from the command line, then two events processed by the worker."""
    applied = accrual(store, "apply", "--shadow", store["file"], "--program", store["program"], "--org", "acme")
    assert applied.exit_code == 0, applied.output
    assert "shadow v1 (1 rules) is the shadow" in applied.output and "live rules are unchanged" in applied.output
    return {**store, "counts": process(store, ("alice", "a1", 10.0), ("bob", "b1", 20.0))}


def test_a_shadow_is_applied_reported_and_promoted_from_the_command_line(shadowed):
    store, program = shadowed, shadowed["program"]
    counts = store["counts"]
    assert counts["journal_entry"] == 2 and counts["rule_evaluation"] == 2  # the live rules' writes only
    assert accrual(store, "verify").exit_code == 0
    report = json.loads(accrual(store, "shadow", "report", "--program", program, "--json").stdout)
    assert (report["events"], report["differing"], report["errors"]) == (2, 2, 0)
    (pts,) = report["assets"]
    assert (Decimal(pts["before"]["credited"]), Decimal(pts["after"]["credited"])) == (30, 60)
    assert Decimal(pts["liability_change"]) == 30
    text = accrual(store, "shadow", "report", "--program", program).output
    assert "2 of 2 processed events evaluated; 2 differ" in text and "earn  3/0/0" not in text
    assert [line.split() for line in text.splitlines() if line.startswith("PTS")] == [
        ["PTS", "credited", "30.00", "60.00", "+30.00"],
        ["PTS", "liability", "+30.00"],
    ]
    promoted = accrual(store, "apply", "--promote-shadow", "--program", program, "--org", "acme")
    assert promoted.exit_code == 0, promoted.output
    assert (
        "update rule earn (actions)" in promoted.output and "promoted: the shadow is the live rules" in promoted.output
    )
    gone = accrual(store, "apply", "--shadow", "--clear", "--program", program, "--org", "acme")
    assert gone.exit_code == 1 and "shadow_not_found" in gone.output
    ended = json.loads(accrual(store, "shadow", "report", "--program", program, "--json").stdout)
    assert ended["shadow"]["status"] == "PROMOTED" and ended["events"] == 2


def test_a_shadow_can_be_cleared_and_usage_errors_are_refused(store):
    program = store["program"]
    assert accrual(store, "apply", "--shadow", store["file"], "--program", program, "--org", "acme").exit_code == 0
    cleared = accrual(store, "apply", "--shadow", "--clear", "--program", program, "--org", "acme")
    assert cleared.exit_code == 0 and "is CLEARED" in cleared.output
    for args in (
        ("--clear", "--program", program),
        ("--shadow", store["file"]),
        ("--promote-shadow", store["file"], "--program", program),
        ("--shadow", "--program", program),
        (store["file"], "--program", program),
        ("--shadow", store["file"], "--program", program, "--dry-run"),
    ):
        refused = accrual(store, "apply", *args, "--org", "acme")
        assert refused.exit_code == 2, (args, refused.output)
    unknown = accrual(store, "shadow", "report", "--program", "nope")
    assert unknown.exit_code == 1 and "not_found" in unknown.output
