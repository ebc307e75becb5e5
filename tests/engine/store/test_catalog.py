from __future__ import annotations

import msgspec
import pytest

from engine.model.bundle import Asset, Budget, Credit, Rule, SetTier, TierLevel, TierType
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


def test_touch_program_makes_the_compiled_form_stale(world):
    from engine.store.catalog import touch_program

    before = Program.get_by_id(world.program.id).rules_version
    touch_program(world.program.id)
    assert Program.get_by_id(world.program.id).rules_version == before + 1


def tier_type(**extra):
    return TierType(key="status", levels=[TierLevel(key="bronze", rank=0), TierLevel(key="silver", rank=1)], **extra)


def test_tier_types_update_by_level_key_and_archive_one_way(world):
    from engine.rules.program import compile_program
    from engine.store.catalog import (
        archive_tier_type,
        create_tier_type,
        get_tier_type,
        tier_to_bundle,
        update_tier_type,
    )

    org, program = world.org.id, world.program.id
    created = create_tier_type(org, program, tier_type(lifecycle={"counters": {"rollover": "NONE"}}))
    versions = [Program.get_by_id(program).rules_version]
    update_tier_type(
        org,
        program,
        "status",
        {"levels": [{"key": "silver", "display_name": "Silver"}, {"key": "gold", "rank": 2}], "lifecycle": {}},
    )
    versions.append(Program.get_by_id(program).rules_version)
    stored = tier_to_bundle(get_tier_type(org, program, "status"))
    assert [(lv.key, lv.rank, lv.display_name) for lv in stored.levels] == [
        ("bronze", 0, None),
        ("silver", 1, "Silver"),
        ("gold", 2, None),
    ]
    assert stored.lifecycle == {} and stored.status == "ACTIVE"
    update_tier_type(org, program, "status", {"display_name": None} | {"levels": []})  # nothing changes
    assert Program.get_by_id(program).rules_version == versions[-1] > versions[0]
    rule_on_tier = Rule(name="vip", condition="true", actions=[SetTier(tier="status", level="gold")])
    create_rule(org, program, rule_on_tier)
    archived = archive_tier_type(org, program, "status")
    assert (archived.id, archived.status, archived.archived_at is not None) == (created.id, "ARCHIVED", True)
    bundle, _ = program_bundle(Program.get_by_id(program))
    assert [(t.key, t.status) for t in bundle.tiers] == [("status", "ARCHIVED")]
    compiled = compile_program(bundle)  # a rule naming an archived tier still compiles
    assert compiled.rules[0].actions[0].tier_archived is True
    for change in (
        lambda: archive_tier_type(org, program, "status"),
        lambda: update_tier_type(org, program, "status", {"display_name": "x"}),
    ):
        with pytest.raises(Conflict) as info:
            change()
        assert info.value.code == "tier_archived"


def test_tier_type_conflicts_and_lookups(world):
    from engine.store.catalog import create_tier_type, get_tier_type, update_tier_type

    org, program = world.org.id, world.program.id
    create_tier_type(org, program, tier_type())
    with pytest.raises(Conflict) as info:
        create_tier_type(org, program, tier_type())
    assert info.value.code == "tier_exists"
    clash = TierType(key="other", levels=[TierLevel(key="a", rank=1), TierLevel(key="b", rank=1)])
    with pytest.raises(Conflict) as info:
        create_tier_type(org, program, clash)
    assert info.value.code == "tier_level_conflict"
    with pytest.raises(LedgerRejected) as info:
        update_tier_type(org, program, "status", {"levels": [{"key": "gold"}]})
    assert info.value.code == "bad_request"
    with pytest.raises(LedgerRejected):
        update_tier_type(org, program, "status", {"key": "renamed"})
    with pytest.raises(NotFound):
        get_tier_type(org, program, "missing")
    with pytest.raises(NotFound):
        get_tier_type("another-organisation", program, "status")
