from engine.rules.completion import complete, hover

BUNDLE = """\
program: {key: p, name: P}
rules:
  - name: r
    condition: >-
      event.
    actions:
      - type: COUNTER
        key: visits
        value: 1
"""


def _labels(text: str, line: int, character: int, **kwargs) -> list[str]:
    return [item.label for item in complete(text, line, character, **kwargs).items]


def test_event_fields_come_from_the_sample_events_nested_too():
    events = [{"type": "purchase", "basket": {"total": 3, "lines": []}}, {"store": "n"}]
    assert _labels(BUNDLE, 4, 12, events=events)[:3] == ["type", "basket", "store"]
    nested = BUNDLE.replace("event.", "event.basket.")
    found = complete(nested, 4, 19, events=events)
    assert [(i.label, i.detail) for i in found.items[:2]] == [("total", "double"), ("lines", "list")]


def test_globals_offer_variables_functions_macros_and_namespaces():
    text = BUNDLE.replace("event.", "ge")
    labels = _labels(text, 4, 8)
    assert {"event", "participant", "now", "get", "has", "math", "size"} <= set(labels)
    namespaced = _labels(BUNDLE.replace("event.", "math.le"), 4, 13)
    assert "least" in namespaced and "event" not in namespaced


def test_participant_fields_and_tier_members():
    assert _labels(BUNDLE.replace("event.", "participant."), 4, 18)[:7] == [
        "id",
        "external_id",
        "status",
        "tags",
        "counters",
        "attributes",
        "tiers",
    ]
    assert _labels(BUNDLE.replace("event.", "participant.tiers.gold."), 4, 29)[:2] == ["level", "rank"]


def test_keys_follow_the_schema_and_the_action_type():
    text = BUNDLE.replace("        value: 1\n", "        value: 1\n        \n")
    labels = _labels(text, 9, 8)
    assert "reset_after" in labels and "asset_id" not in labels and "key" not in labels


def test_enum_values_complete_a_value():
    text = BUNDLE.replace("type: COUNTER", "type: CRE")
    assert "CREDIT" in _labels(text, 6, 15)


def test_hover_documents_functions_variables_and_keys():
    text = BUNDLE.replace("event.", 'get(event, "x", 0.0) > 1.0')
    assert "get(map, key, default)" in hover(text, 4, 7).markdown
    assert "event_data" in hover(text, 4, 11).markdown
    assert hover(text, 3, 6).markdown.startswith("`condition`: string (required), in Rule")
    assert hover(text, 0, 0) is None or "program" in hover(text, 0, 0).markdown
