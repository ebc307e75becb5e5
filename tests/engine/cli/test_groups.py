"""`accrual groups list` and `accrual groups show`: the database's groups, read only."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from engine.cli.main import main
from engine.store import groups, owner_state
from engine.store import operations as ops
from engine.store.db import connect, write_transaction
from tests.engine.world import World


def _household(tmp_path: Path, monkeypatch) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'groups.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    database = connect(url)
    with database.connection_context():
        with write_transaction():
            world = World()
        members = [groups.Member(world.alice.id, "ADMIN"), groups.Member(world.bob.id)]
        household = groups.create_group(world.org.id, "Smith household", members)
        solo = groups.create_group(world.org.id, "Solo", [groups.Member(world.alice.id, "ADMIN")])
        groups.archive_group(world.org.id, solo.id)
        groups.remove_member(world.org.id, household.id, world.bob.id)
        ops.adjust_balance(world.org.id, household.id, owner_type="GROUP", program_id=world.program.id,
                           asset_id="PTS", type="CREDIT", amount="50", description="pool")  # fmt: skip
        ops.hold(world.org.id, household.id, owner_type="GROUP", program_id=world.program.id, asset_id="PTS",
                 amount="20", description="trip")  # fmt: skip
        owner_state.add_tag(world.org.id, "GROUP", household.id, "pooling", owner_state.Origin(api_key_id=None))
        ids = {"household": household.id, "solo": solo.id, "org": world.org.id, "program": world.program.id}
    database.close()
    return ids


def test_list_shows_active_groups_with_their_active_members(tmp_path, monkeypatch):
    ids = _household(tmp_path, monkeypatch)
    listed = CliRunner().invoke(main, ["groups", "list"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines() == [f"{ids['household']}  ACTIVE    1 member  Smith household"]
    archived = CliRunner().invoke(main, ["groups", "list", "--include-archived", "--organisation", ids["org"]])
    assert [line.split()[:2] for line in archived.output.splitlines()] == [
        [ids["solo"], "ARCHIVED"],
        [ids["household"], "ACTIVE"],
    ]
    assert CliRunner().invoke(main, ["groups", "list", "--organisation", "nope"]).output == "no groups\n"


def test_show_prints_members_balances_and_state(tmp_path, monkeypatch):
    ids = _household(tmp_path, monkeypatch)
    shown = CliRunner().invoke(main, ["groups", "show", ids["household"], "--include-former"])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == f"Smith household  ACTIVE  {ids['household']}"
    assert lines[1:4] == ["members:", "  alice  ADMIN  ACTIVE", lines[3]]
    assert lines[3].startswith("  bob  MEMBER  LEFT  left ")
    assert lines[4:] == [
        "balances:",
        f"  {ids['program']}  PTS  available 30.00, held 20.00, deferred 0.00",
        "tags: pooling",
    ]
    active_only = CliRunner().invoke(main, ["groups", "show", ids["household"]]).output.splitlines()
    assert active_only[1:3] == ["members:", "  alice  ADMIN  ACTIVE"] and active_only[3] == "balances:"
    missing = CliRunner().invoke(main, ["groups", "show", "nope"])
    assert missing.exit_code == 1 and "no group nope in this database" in missing.output
