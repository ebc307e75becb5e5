from engine.rules.yaml_context import place_at

TEXT = """\
rules:
  - name: x
    condition: >-
      event.type == "x" &&
      event.am
    actions:
      - type: CREDIT
        amo
      -
tests:
- name: t
  expect:
    matc
"""
TEXT = TEXT.replace("      -\n", "      - \n")  # a new list item, cursor after its dash
LINES = TEXT.split("\n")


def _place(line: int):
    return place_at(TEXT, line, len(LINES[line]))


def test_a_key_being_typed_knows_the_keys_above_it():
    assert (_place(7).kind, _place(7).path) == ("key", ("rules", "*", "actions", "*"))
    assert _place(7).siblings == {"type": "CREDIT"}
    assert (_place(12).kind, _place(12).path) == ("key", ("tests", "*", "expect"))


def test_a_new_list_item_does_not_see_the_item_above():
    place = _place(8)
    assert place.kind == "key" and place.path == ("rules", "*", "actions", "*") and place.siblings == {}


def test_a_line_of_a_folded_condition_is_cel():
    place = _place(4)
    assert place.kind == "cel" and place.key == "condition" and place.cel_prefix == "event.am"
    assert place.word_start == LINES[4].index("am")


def test_plain_values_and_inline_cel():
    assert _place(6).kind == "value" and _place(6).key == "type"
    inline = place_at("rules:\n- amount: round(event.total", 1, 30)
    assert inline.kind == "cel" and inline.cel_prefix == "round(event.total"


def test_comments_and_lines_out_of_range_are_nothing():
    assert place_at("# a comment", 0, 5).kind == "other"
    assert place_at("a: 1", 7, 0).kind == "other"
