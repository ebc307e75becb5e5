from datetime import UTC, datetime
from decimal import Decimal

import pytest

from dsl.errors import DslError
from engine.errors import EngineError, LimitExceeded
from engine.limits import RULES_PER_PROGRAM_MAX
from engine.rules.program import ProgramCompileError, compile_program, guard_key, lookup_path
from tests.engine.evaluator.support import bundle, rule


def problems_of(compiled_bundle):
    with pytest.raises(ProgramCompileError) as caught:
        compile_program(compiled_bundle)
    assert caught.value.code == "program_compile"
    return [(p.path, p.code) for p in caught.value.problems]


def test_rules_are_sorted_by_order_then_name_and_default_orders_follow_the_file():
    program = compile_program(
        bundle(rule("zeta", order=5), rule("after_zeta"), rule("alpha", order=5), rule("late", order=100))
    )
    assert [(r.name, r.order) for r in program.rules] == [
        ("alpha", 5),
        ("zeta", 5),
        ("after_zeta", 15),
        ("late", 100),
    ]
    assert [r.position for r in program.rules] == [0, 1, 2, 3]


def test_inactive_rules_are_compiled_but_not_evaluated():
    program = compile_program(bundle(rule("on"), rule("paused", status="SUSPENDED"), rule("old", status="ARCHIVED")))
    assert [r.name for r in program.rules] == ["on"]
    assert [r.name for r in program.inactive] == ["paused", "old"]


def test_every_problem_is_collected_with_its_path():
    found = problems_of(
        bundle(
            rule("bad_condition", "event.amount >"),
            rule(
                "bad_actions",
                "true",
                {"type": "CREDIT", "asset_id": "NOPE", "amount": "1"},
                {"type": "CREDIT", "asset_id": "PTS", "amount": "event.amount *"},
                {"type": "SET_TIER", "tier": "status", "level": "platinum"},
                {"type": "SET_TIER", "tier": "loyalty", "level": "gold"},
                {"type": "COUNTER", "key": "n", "value": "1", "reset_after": "1 day"},
                {"type": "SCHEDULE_EVENT", "event_name": "later", "delay": "soon"},
            ),
            rule("bad_condition", "true"),
        )
    )
    assert found == [
        (("rules", 0, "condition"), "DSL_SYNTAX"),
        (("rules", 1, "actions", 0, "asset_id"), "unknown_asset"),
        (("rules", 1, "actions", 1, "amount"), "DSL_SYNTAX"),
        (("rules", 1, "actions", 2, "level"), "unknown_tier_level"),
        (("rules", 1, "actions", 3, "tier"), "unknown_tier"),
        (("rules", 1, "actions", 4, "reset_after"), "invalid_duration"),
        (("rules", 1, "actions", 5, "delay"), "invalid_duration"),
        (("rules", 2, "name"), "duplicate_rule_name"),
    ]


def test_problem_errors_are_dsl_or_engine_errors():
    with pytest.raises(ProgramCompileError) as caught:
        compile_program(
            bundle(rule("a", "nope.x == 1"), rule("b", "true", {"type": "DEBIT", "asset_id": "X", "amount": 1}))
        )
    first, second = caught.value.problems
    assert isinstance(first.error, DslError) and first.error.code == "DSL_UNKNOWN_NAME"
    assert isinstance(second.error, EngineError) and second.rule_index == 1
    assert "rules.0.condition" in str(caught.value)


def test_constant_amounts_are_checked_at_compile_time():
    found = problems_of(
        bundle(
            rule("a", "true", {"type": "CREDIT", "asset_id": "USD", "amount": 10.555}),
            rule("b", "true", {"type": "CREDIT", "asset_id": "USD", "amount": "0"}),
            rule("c", "true", {"type": "DEBIT", "asset_id": "USD", "amount": "5000.0"}),
        )
    )
    assert found == [
        (("rules", 0, "actions", 0, "amount"), "invalid_scale"),
        (("rules", 1, "actions", 0, "amount"), "invalid_amount"),
        (("rules", 2, "actions", 0, "amount"), "max_transaction_amount_exceeded"),
    ]
    program = compile_program(bundle(rule("ok", "true", {"type": "CREDIT", "asset_id": "USD", "amount": 2.5})))
    assert program.rules[0].actions[0].constant_amount == Decimal("2.50")


def test_budgets_targets_and_windows_are_checked():
    found = problems_of(
        bundle(
            rule(
                "a",
                "true",
                {"type": "CREDIT", "asset_id": "PTS", "amount": 1},
                budgets=[{"asset_id": "PTS", "limit": "10.5"}, {"asset_id": "ZZZ", "limit": "1"}],
            ),
            rule("b", "true", {"type": "CREDIT", "asset_id": "PTS", "amount": 1, "target": {"type": "PROGRAM"}}),
            rule("c", "true", {"type": "TAG", "tag": "x", "target": {"type": "GROUP"}}),
            rule(
                "d",
                "true",
                {"type": "TAG", "tag": "x", "target": {"type": "PARTICIPANT", "id": "'a'", "external_id": "'b'"}},
            ),
            rule(
                "e",
                "true",
                active_from=datetime(2026, 2, 1, tzinfo=UTC),
                active_to=datetime(2026, 1, 1, tzinfo=UTC),
            ),
            rule("f", "true", {"type": "CREDIT", "asset_id": "PTS", "amount": 1, "matures_at": "next week"}),
        )
    )
    assert found == [
        (("rules", 0, "budgets", 0, "limit"), "invalid_scale"),
        (("rules", 0, "budgets", 1, "asset_id"), "unknown_asset"),
        (("rules", 1, "actions", 0, "target"), "invalid_target"),
        (("rules", 2, "actions", 0, "target"), "invalid_target"),
        (("rules", 3, "actions", 0, "target"), "invalid_target"),
        (("rules", 4, "active_to"), "invalid_time_window"),
        (("rules", 5, "actions", 0, "matures_at"), "invalid_duration"),
    ]


def test_invalid_max_transaction_amount_is_a_program_level_problem():
    assets = [{"symbol": "PTS", "name": "Points", "scale": 0, "max_transaction_amount": "10.5"}]
    assert problems_of(bundle(rule("a"), assets=assets)) == [(("assets", 0, "max_transaction_amount"), "invalid_scale")]


def test_too_many_rules_is_a_limit():
    many = bundle(*(rule(f"r{i}") for i in range(RULES_PER_PROGRAM_MAX + 1)))
    with pytest.raises(LimitExceeded) as caught:
        compile_program(many)
    assert caught.value.code == "limit_rules_per_program"


def test_rule_ids_are_attached():
    program = compile_program(bundle(rule("a"), rule("b")), rule_ids={"a": ("rule-1", 3)})
    assert (program.rules[0].rule_id, program.rules[0].rule_version) == ("rule-1", 3)
    assert program.rules[1].rule_id is None


def test_rules_are_indexed_by_event_guards():
    program = compile_program(
        bundle(
            rule("purchase", 'event.type == "purchase" && event.amount > 10.0'),
            rule("refund", '"refund" == event.type'),
            rule("by_channel", 'event.channel == "web" && participant.status == "ACTIVE"'),
            rule("by_state", 'participant.status == "ACTIVE"'),
            rule("any", "true"),
        )
    )
    assert set(program.index) == {"event.type", "event.channel"}
    assert [program.rules[p].name for p in program.unguarded] == ["by_state", "any"]

    def candidates(data):
        flags = program.candidates({"event": data})
        return [r.name for r in program.rules if flags[r.position]]

    assert candidates({"type": "purchase", "channel": "app"}) == ["purchase", "by_state", "any"]
    assert candidates({"type": "refund", "channel": "web"}) == ["refund", "by_channel", "by_state", "any"]
    # A missing or non-scalar field cannot be decided by the index: those rules are evaluated.
    assert candidates({}) == ["purchase", "refund", "by_channel", "by_state", "any"]
    assert candidates({"type": ["purchase"], "channel": "app"}) == ["purchase", "refund", "by_state", "any"]


def test_guard_keys_follow_cel_equality():
    assert guard_key(1) == guard_key(1.0)
    assert guard_key(True) != guard_key(1)
    assert guard_key("1") != guard_key(1)
    assert guard_key(float("nan")) is None and guard_key([1]) is None


def test_lookup_path_follows_maps_only():
    bindings = {"event": {"type": "purchase", "meta": {"channel": "web"}, "items": [1]}}
    assert lookup_path(bindings, "event.type") == (True, "purchase")
    assert lookup_path(bindings, "event.meta.channel") == (True, "web")
    assert lookup_path(bindings, "event.missing") == (False, None)
    assert lookup_path(bindings, "event.items.0") == (False, None)


def test_an_expiry_on_a_simple_asset_is_refused_naming_its_inventory_mode():
    found = problems_of(
        bundle(rule("a", "true", {"type": "CREDIT", "asset_id": "PTS", "amount": 1, "expires_at": "24h"}))
    )
    assert found == [(("rules", 0, "actions", 0, "expires_at"), "requires_lot_asset")]
    program = compile_program(
        bundle(rule("a", "true", {"type": "CREDIT", "asset_id": "MILES", "amount": 1, "expires_at": "event.ends"}))
    )
    assert program.rules[0].actions[0].expires_at is not None
