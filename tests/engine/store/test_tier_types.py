"""Tier types as rows: levels upserted by key, archived one way, conflicts and lookups."""

from __future__ import annotations

import pytest

from engine.model.bundle import Rule, SetTier, TierLevel, TierType
from engine.model.lifecycle import Lifecycle, LifecycleCounters
from engine.store.catalog import create_rule, program_bundle
from engine.store.errors import Conflict, LedgerRejected, NotFound
from engine.store.models import Program


def tier_type(**extra):
    return TierType(key="status", levels=[TierLevel(key="bronze", rank=0), TierLevel(key="silver", rank=1)], **extra)


def test_tier_types_update_by_level_key_and_archive_one_way(world):
    from engine.rules.program import compile_program
    from engine.store.tier_types import (
        archive_tier_type,
        create_tier_type,
        get_tier_type,
        tier_to_bundle,
        update_tier_type,
    )

    org, program = world.org.id, world.program.id
    created = create_tier_type(
        org, program, tier_type(lifecycle=Lifecycle(counters=LifecycleCounters(rollover="NONE")))
    )
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
    assert stored.lifecycle == Lifecycle() and stored.status == "ACTIVE"
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
    from engine.store.tier_types import create_tier_type, get_tier_type, update_tier_type

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
