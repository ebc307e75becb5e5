"""`accrual tiers preview`: a bundle's tiers against the members in the database."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from engine.cli.main import main
from engine.store import owner_state
from engine.store.db import connect, write_transaction
from engine.store.models import Enrolment, Participant
from tests.engine.world import World

BUNDLE = """program: {key: air, name: Air}
assets:
  - {symbol: PTS, name: Points, scale: 0}
tiers:
  - key: status
    levels:
      - {key: silver, rank: 1, qualification: {criteria: [{counter: miles, operator: ">=", threshold: 100}]}}
rules:
  - name: earn
    condition: "true"
    actions: [{type: COUNTER, key: miles, value: "1"}]
"""


def test_preview_prints_who_would_move(tmp_path: Path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'tiers.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    database = connect(url)
    with database.connection_context(), write_transaction():
        world = World()
        for person, miles in ((world.alice, 150), (world.bob, 50)):
            Enrolment.create(participant=person, program=world.program)
            origin = owner_state.Origin(program_id=world.program.id)
            owner_state.set_counter(world.org.id, "PARTICIPANT", person.id, "miles", Decimal(miles), origin)
        program_id = world.program.id
        people = Participant.select().count()
    database.close()
    bundle = tmp_path / "air.yaml"
    bundle.write_text(BUNDLE, encoding="utf-8")
    result = CliRunner().invoke(main, ["tiers", "preview", str(bundle), "--program", program_id])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{people} members judged",
        "status: 1 up, 0 down",
        "  alice  status: (none) -> silver  UP",
    ]
    missing = CliRunner().invoke(main, ["tiers", "preview", str(bundle), "--program", "nope"])
    assert missing.exit_code == 1 and "no program nope" in missing.output
    bundle.write_text(BUNDLE.replace("rank: 1", "rank: -1"), encoding="utf-8")
    broken = CliRunner().invoke(main, ["tiers", "preview", str(bundle), "--program", program_id])
    assert broken.exit_code == 1 and "air.yaml:7:" in broken.output
