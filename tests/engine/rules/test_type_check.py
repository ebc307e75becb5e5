"""engine.rules.type_check through the loader: the four mistakes `accrual check` used to pass
are reported at file:line:col with a suggestion, against declared event types (errors) or, without
declarations, against the fixed shapes (errors) and the test cases' events (warnings)."""

from __future__ import annotations

from engine.rules.loader import load_bundle_text

HEAD = """program: {key: coffee, name: Coffee, timezone: Europe/London}
assets: [{symbol: BEANS, name: Beans, scale: 0}]
"""
DECLARED = "events:\n  purchase: {amount: double, category: string}\n"
RULES = """rules:
  - name: typo
    condition: event.type == "purchase" && event.ammount > 1.0
    actions: [{type: CREDIT, asset_id: BEANS, amount: 1}]
  - name: fixed_shape
    condition: '"vip" in participant.tag'
    actions: [{type: CREDIT, asset_id: BEANS, amount: 1}]
  - name: zone
    condition: now.getDayOfWeek("Europe/Londn") == 6
    actions: [{type: CREDIT, asset_id: BEANS, amount: 1}]
  - name: text
    condition: event.type == "purchase" && event.amount > "5"
    actions: [{type: CREDIT, asset_id: BEANS, amount: 1}]
"""
TESTS = """tests:
  - name: a purchase
    event: {type: purchase, amount: 5}
    expect: {status: COMPLETED}
"""


def found(text: str) -> list[tuple[int, int, str, str]]:
    return [(p.line, p.column, p.severity, p.code) for p in load_bundle_text(text, "coffee.yaml").problems]


def messages(text: str) -> list[str]:
    return [p.message for p in load_bundle_text(text, "coffee.yaml").problems]


def test_with_declared_events_each_mistake_is_an_error_where_it_is():
    text = HEAD + DECLARED + RULES
    assert found(text) == [
        (7, 50, "error", "DSL_UNKNOWN_FIELD"),
        (10, 38, "error", "DSL_UNKNOWN_FIELD"),
        (13, 34, "error", "DSL_INVALID_ARGUMENT"),
        (16, 44, "error", "DSL_NO_MATCHING_OVERLOAD"),
    ]
    assert [m.rsplit("(", 1)[-1] for m in messages(text)[:3]] == [
        "did you mean 'amount'?)",
        "did you mean 'tags'?)",
        "did you mean 'Europe/London'?)",
    ]
    assert messages(text)[3].endswith('write 5.0 instead of "5"')
    assert not load_bundle_text(text).ok


def test_without_declarations_fixed_shapes_are_errors_and_the_test_cases_events_warn():
    assert found(HEAD + RULES + TESTS) == [
        (5, 50, "warning", "untested_event_field"),
        (8, 38, "error", "DSL_UNKNOWN_FIELD"),
        (11, 34, "error", "DSL_INVALID_ARGUMENT"),
        (14, 44, "warning", "DSL_NO_MATCHING_OVERLOAD"),
    ]
    assert messages(HEAD + RULES + TESTS)[0] == (
        "no test case's event has field 'ammount'; add a test case with it, or declare the event under "
        "`events` (did you mean 'amount'?)"
    )


def test_without_declarations_or_tests_event_fields_are_not_judged():
    assert [code for *_, code in found(HEAD + RULES)] == ["DSL_UNKNOWN_FIELD", "DSL_INVALID_ARGUMENT"]


def test_a_guard_narrows_to_its_declared_type_and_an_undeclared_type_is_named():
    text = (
        HEAD
        + "events:\n  purchase: {amount: double}\n  refund: {reason: string}\n"
        + """rules:
  - name: refund_reason
    condition: event.type == "refund" && event.amount > 1.0
    actions: [{type: CREDIT, asset_id: BEANS, amount: 1}]
  - name: any_event
    condition: has(event.reason) || event.amount > 1.0
    actions: [{type: CREDIT, asset_id: BEANS, amount: 1}]
  - name: misspelt
    condition: event.type == "purchse"
    actions: [{type: CREDIT, asset_id: BEANS, amount: 1}]
"""
    )
    assert found(text) == [(8, 48, "error", "DSL_UNKNOWN_FIELD"), (14, 16, "error", "unknown_event_type")]
    assert messages(text)[1] == "event type 'purchse' is not declared under `events`; did you mean 'purchase'?"


def test_actions_are_checked_too_and_bad_declarations_and_zones_are_reported():
    text = (
        "program: {key: c, name: C, timezone: Europe/Pariss}\n"
        "events:\n  purchase: {amount: dubble, items: {type: list, itemz: string}}\n"
        "assets: [{symbol: BEANS, name: Beans, scale: 0}]\n"
        "rules:\n  - name: r\n    condition: event.type == 'purchase'\n"
        "    actions: [{type: CREDIT, asset_id: BEANS, amount: 'event.amount * 2'}]\n"
    )
    assert [(line, code) for line, _, _, code in found(text)] == [
        (1, "unknown_timezone"),
        (3, "unknown_event_type"),
        (3, "unknown_field"),
    ]
    assert "did you mean 'Europe/Paris'?" in messages(text)[0] and "did you mean 'double'?" in messages(text)[1]
    fixed = text.replace("Pariss", "Paris").replace("dubble", "double").replace("itemz", "items")
    assert found(fixed) == [(8, 56, "error", "DSL_NO_MATCHING_OVERLOAD")]


def test_group_balances_are_typed_as_a_map_of_buckets():
    rules = """rules:
  - name: wallet
    condition: group != null && group.balances.BEANS.available >= 10.0 && group.balances.BEANS.availble > 0.0
    actions: [{type: CREDIT, asset_id: BEANS, amount: 1}]
  - name: compared_with_text
    condition: group.balances.BEANS.held > "5"
    actions: [{type: CREDIT, asset_id: BEANS, amount: 1}]
"""
    assert [(line, code) for line, _, severity, code in found(HEAD + DECLARED + rules) if severity == "error"] == [
        (7, "DSL_UNKNOWN_FIELD"),
        (10, "DSL_NO_MATCHING_OVERLOAD"),
    ]
    assert "did you mean 'available'" in messages(HEAD + DECLARED + rules)[0]
