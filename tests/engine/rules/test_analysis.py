from engine.rules.loader import load_bundle_text

HEAD = """program: {key: demo, name: Demo}
assets:
  - {symbol: PTS, name: Points, scale: 0}
  - {symbol: GEMS, name: Gems, scale: 0}
rules:
  - name: earn
    order: 10
    condition: event.type == "purchase"
    actions: [{type: CREDIT, asset_id: PTS, amount: 1}]
"""


def warnings(extra):
    loaded = load_bundle_text(HEAD + extra)
    assert loaded.ok, [p.format() for p in loaded.errors]
    return [(p.code, p.line, p.message) for p in loaded.warnings]


def test_unused_asset():
    assert warnings("") == [("unused_asset", 4, "no rule uses asset 'GEMS'")]


GEMS = (
    "  - {name: gems, order: 5, condition: event.type == 'quest', "
    "actions: [{type: CREDIT, asset_id: GEMS, amount: 1}]}\n"
)


def test_catch_all_stop_makes_later_rules_unreachable():
    found = warnings(
        GEMS
        + "  - {name: fallback, order: 1, condition: 'true', stop_after_match: true, actions: [{type: TAG, tag: t}]}\n"
    )
    assert [(code, line) for code, line, _ in found] == [("unreachable_rule", 6), ("unreachable_rule", 10)]
    assert "never runs: 'fallback' (order 1)" in found[0][2]


def test_a_stop_with_a_real_condition_or_a_window_is_not_a_catch_all():
    assert (
        warnings(
            GEMS
            + (
                "  - {name: vip, order: 1, condition: '\"vip\" in participant.tags', stop_after_match: true, "
                "actions: [{type: TAG, tag: t}]}\n"
            )
            + (
                "  - {name: promo, order: 2, condition: 'true', stop_after_match: true, "
                "active_from: '2026-01-01T00:00:00Z', actions: [{type: TAG, tag: p}]}\n"
            )
        )
        == []
    )


def test_inactive_rules_are_not_analysed():
    assert (
        warnings(
            GEMS
            + (
                "  - {name: off, order: 1, status: SUSPENDED, condition: 'true', stop_after_match: true, "
                "actions: [{type: TAG, tag: t}]}\n"
            )
        )
        == []
    )


def test_duplicate_order_among_active_rules():
    found = warnings(GEMS.replace("order: 5", "order: 10"))
    assert [(code, line) for code, line, _ in found] == [("duplicate_order", 10)]
    assert "order 10 is also the order of active rule 'earn'" in found[0][2]


def test_constant_conditions():
    found = warnings(
        GEMS
        + "  - {name: never, order: 20, condition: '1 > 2', actions: [{type: TAG, tag: t}]}\n"
        + "  - {name: always, order: 30, condition: '2 > 1', actions: [{type: TAG, tag: t}]}\n"
        + "  - {name: literal, order: 50, condition: 'true', actions: [{type: TAG, tag: t}]}\n"
    )
    assert [(code, line) for code, line, _ in found] == [("constant_condition", 11), ("constant_condition", 12)]
    messages = [message for *_, message in found]
    assert "always false" in messages[0]
    assert "always true" in messages[1]


def test_budget_for_an_asset_the_rule_never_credits():
    found = warnings(
        GEMS
        + "    budgets: [{asset_id: PTS, limit: '100'}]\n".replace(
            "    budgets",
            "  - name: capped\n    order: 60\n    condition: 'event.type == \"x\"'\n"
            "    actions: [{type: TAG, tag: t}]\n    budgets",
        )
    )
    assert [(code, line) for code, line, _ in found] == [("budget_without_credit", 15)]
