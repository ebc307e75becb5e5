"""engine.rules.event_types: declarations as CEL types, and event_data checked against them."""

from __future__ import annotations

from engine.rules.event_types import declared_event_types, declared_shapes, event_data_problems

EVENTS = {
    "purchase": {
        "amount": "double",
        "coupon": {"type": "string", "optional": True},
        "items": {"type": "list", "items": {"sku": "string", "qty": "number"}},
        "meta": {"type": "map", "values": "string", "optional": True},
        "place": {"type": "object", "fields": {"city": "string"}, "optional": True},
    },
    "signup": {},
}


def test_declarations_become_cel_types():
    types, problems = declared_event_types(EVENTS)
    assert problems == []
    purchase = types["purchase"]
    assert sorted(purchase.fields) == ["amount", "coupon", "items", "meta", "place", "type"]
    assert str(purchase.fields["items"]) == "list(element of 'items')"
    assert str(purchase.fields["items"].elem.fields["qty"]) == "double"
    assert str(purchase.fields["meta"]) == "map(string, string)"
    assert str(purchase.fields["place"].fields["city"]) == "string"
    assert list(types["signup"].fields) == ["type"]


def test_bad_declarations_are_reported_with_their_paths():
    _, problems = declared_event_types({"purchase": {"amount": "dubble", "x": {"kind": "string"}, "y": 5}})
    assert [(p.path, p.code) for p in problems] == [
        (("purchase", "amount"), "unknown_event_type"),
        (("purchase", "x", "kind"), "unknown_field"),
        (("purchase", "x"), "invalid_event_type"),
        (("purchase", "y"), "invalid_event_type"),
    ]
    assert "did you mean 'double'?" in problems[0].message


def test_event_data_is_checked_against_its_declared_type():
    shapes, _ = declared_shapes(EVENTS)
    assert event_data_problems({"type": "purchase", "amount": 3, "items": [{"sku": "a", "qty": 1}]}, shapes) == []
    assert event_data_problems({"type": "purchase", "amount": "3", "items": [{"qty": "x"}]}, shapes) == [
        "amount: expected double, got str",
        "items[0].qty: expected double, got str",
    ]
    assert event_data_problems({"type": "purchase"}, shapes) == ["amount: required", "items: required"]
    assert event_data_problems({"type": "purchse"}, shapes) == [
        "event type 'purchse' is not declared; did you mean 'purchase'?"
    ]
    assert event_data_problems({"type": "signup", "extra": 1}, shapes) == []  # undeclared fields are allowed
