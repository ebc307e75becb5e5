from __future__ import annotations

import msgspec
import pytest

from engine.model.bundle import Asset, Budget, Credit, Rule
from engine.store.catalog import create_asset, create_rule, program_bundle, rule_to_bundle, update_rule
from engine.store.errors import Conflict, LedgerRejected, NotFound
from engine.store.models import Program, RuleHistory


def rule(name="r", **extra):
    return Rule(name=name, condition="true", actions=[Credit(asset_id="PTS", amount="1")], **extra)


def test_a_stored_rule_round_trips_and_every_version_is_kept(world):
    spec = rule(description="d", stop_after_match=True, budgets=[Budget(asset_id=world.pts.id, limit="100")])
    record = create_rule(world.org.id, world.program.id, spec)
    assert record.order == 10 and record.version == 1
    assert rule_to_bundle(record) == msgspec.structs.replace(
        spec, order=10, budgets=[Budget(asset_id="PTS", limit="100")]
    )
    updated = update_rule(world.org.id, record.id, {"condition": "event.x > 1.0"})
    archived = update_rule(world.org.id, record.id, {"status": "ARCHIVED"})
    assert (updated.version, archived.version) == (2, 3)
    history = list(RuleHistory.select().where(RuleHistory.rule == record.id).order_by(RuleHistory.version))
    assert [(h.version, h.change_type) for h in history] == [(1, "created"), (2, "updated"), (3, "archived")]
    assert history[1].changes == {"condition": {"old": "true", "new": "event.x > 1.0"}}
    assert msgspec.convert(history[1].snapshot, Rule).condition == "event.x > 1.0"
    with pytest.raises(Conflict) as info:
        update_rule(world.org.id, record.id, {"condition": "false"})
    assert info.value.code == "rule_archived"


def test_orders_default_upwards_and_must_be_unique_among_active_rules(world):
    create_rule(world.org.id, world.program.id, rule("a"))
    assert create_rule(world.org.id, world.program.id, rule("b")).order == 20
    with pytest.raises(Conflict) as info:
        create_rule(world.org.id, world.program.id, rule("c", order=20))
    assert info.value.code == "order_conflict"
    assert create_rule(world.org.id, world.program.id, rule("d", order=20, status="SUSPENDED")).order == 20


def test_bad_references_are_refused(world):
    with pytest.raises(NotFound):
        create_rule(
            world.org.id,
            world.program.id,
            Rule(name="x", condition="true", actions=[Credit(asset_id="NOPE", amount="1")]),
        )
    with pytest.raises(LedgerRejected) as info:
        update_rule(world.org.id, create_rule(world.org.id, world.program.id, rule()).id, {"colour": "red"})
    assert info.value.code == "bad_request"


def test_program_bundle_rebuilds_the_program_and_bumps_versions(world):
    before = Program.get_by_id(world.program.id).rules_version
    create_asset(world.org.id, world.program.id, Asset(symbol="CASH", name="Cash", scale=2))
    created = create_rule(world.org.id, world.program.id, rule("x"))
    bundle, ids = program_bundle(Program.get_by_id(world.program.id))
    assert Program.get_by_id(world.program.id).rules_version == before + 2
    assert [a.symbol for a in bundle.assets] == ["CASH", "GEM", "PTS"]
    assert [r.name for r in bundle.rules] == ["x"] and ids == {"x": (created.id, 1)}
    with pytest.raises(Conflict):
        create_asset(world.org.id, world.program.id, Asset(symbol="CASH", name="Cash", scale=2))
