from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rules.yaml_source import NODES_MAX, parse_yaml


def codes(document):
    return [(issue.code, issue.line, issue.column, issue.severity) for issue in document.issues]


def test_positions_of_nested_values_are_one_based():
    document = parse_yaml("rules:\n  - name: a\n    actions:\n      - type: TAG\n")
    assert document.data == {"rules": [{"name": "a", "actions": [{"type": "TAG"}]}]}
    assert (document.positions[("rules", 0, "name")].line, document.positions[("rules", 0, "name")].column) == (2, 11)
    assert document.positions[("rules", 0, "actions", 0, "type")].line == 4
    assert document.key_positions[("rules", 0, "actions")].column == 5


def test_yaml_1_1_booleans_stay_text_and_true_false_are_booleans():
    document = parse_yaml("a: no\nb: Yes\nc: off\nd: true\ne: FALSE\n")
    assert document.data == {"a": "no", "b": "Yes", "c": "off", "d": True, "e": False}
    assert document.issues == []


def test_octal_looking_number_is_decimal_with_a_warning():
    document = parse_yaml("amount: 010\nother: 0o10\n")
    assert document.data == {"amount": 10, "other": 8}
    assert codes(document) == [("octal_looking_number", 1, 9, "warning")]
    assert "octal 8" in document.issues[0].message
    assert document.ok


def test_dates_underscores_and_sexagesimal_stay_text():
    document = parse_yaml("a: 2026-01-01\nb: 1_000\nc: 1:20\nd: ~\ne:\nf: 1.5e3\n")
    assert document.data == {"a": "2026-01-01", "b": "1_000", "c": "1:20", "d": None, "e": None, "f": 1500.0}


def test_explicit_str_tag_keeps_text():
    document = parse_yaml("a: !!str 12\nb: !!str true\n")
    assert document.data == {"a": "12", "b": "true"}


def test_explicit_str_tag_keeps_text_that_yaml_1_1_would_not_read_as_a_number():
    # 1e5 and 0o17 are numbers only in YAML 1.2; the tag still says text
    document = parse_yaml("a: !!str 1e5\nb: !!str 0o17\nc: ! 12\nd: !!int 7\n")
    assert document.data == {"a": "1e5", "b": "0o17", "c": 12, "d": 7}


def test_plain_words_numbers_and_keywords_resolve_by_yaml_1_2():
    text = "a: purchase\nb: -3\nc: +.inf\nd: .nan\ne: NULL\nf: False\ng: 0x1F\nh: no\ni: '<<'\nj: .5\nk: -x\n"
    data = parse_yaml(text).data
    assert data["c"] == float("inf") and data["d"] != data["d"]
    del data["d"]
    assert data == {
        "a": "purchase",
        "b": -3,
        "c": float("inf"),
        "e": None,
        "f": False,
        "g": 31,
        "h": "no",
        "i": "<<",
        "j": 0.5,
        "k": "-x",
    }


def test_cel_starting_with_bang_is_reported_as_a_tag():
    document = parse_yaml("condition: !participant.banned\n")
    assert codes(document) == [("yaml_tag", 1, 12, "error")]
    assert document.data == {"condition": "!participant.banned"}
    assert ">-" in document.issues[0].message


def test_duplicate_keys_are_reported_not_overwritten():
    document = parse_yaml("a: 1\nb: 2\na: 3\n")
    assert document.data == {"a": 1, "b": 2}
    assert codes(document) == [("duplicate_key", 3, 1, "error")]


def test_syntax_error_has_position_and_a_hint_for_cel():
    document = parse_yaml("rules:\n  - condition: 'vip' in participant.tags\n")
    assert document.data is None
    [(code, line, column, _)] = codes(document)
    assert (code, line) == ("yaml_syntax", 2)
    assert column > 1
    assert "block scalar" in document.issues[0].message


def test_non_scalar_keys_are_reported():
    document = parse_yaml("? [a, b]\n: 1\n")
    assert codes(document) == [("yaml_key", 1, 3, "error")]


def test_alias_expansion_is_bounded():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    document = parse_yaml("\n".join(lines) + "\n")
    assert NODES_MAX < 10**7
    assert [issue.code for issue in document.issues] == ["yaml_too_large"]
    assert document.data is None


def test_empty_document_has_no_data_and_no_issue():
    document = parse_yaml("# only a comment\n")
    assert document.data is None and document.issues == []


SOURCE = """plain: a &&  bq
double: "x \\" yq"
single: 'it''s q'
folded: >-
  participant.x &&
    q == 'a'
literal: |
  first
  second q
multi: plain
  folded q text
"""


def test_scalar_index_maps_every_style_back_to_the_file():
    document = parse_yaml(SOURCE)
    for key in ("plain", "double", "single", "folded", "literal", "multi"):
        value = document.data[key]
        offset = value.index("q")
        line, column = document.line_column(document.scalar_index((key,), offset))
        assert SOURCE.splitlines()[line - 1][column - 1] == "q", key


def test_scalar_index_of_a_non_string_is_none():
    document = parse_yaml("a: 5\n")
    assert document.scalar_index(("a",), 0) is None
    assert document.scalar_index(("missing",), 0) is None


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="abc =&|.\"'\\", min_size=1, max_size=30), st.sampled_from(["double", "single", "block"]))
def test_scalar_index_finds_each_character_of_any_quoted_text(text, style):
    if style == "double":
        written = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif style == "single":
        written = "'" + text.replace("'", "''") + "'"
    else:
        if text != text.strip() or not text.strip():
            return
        written = ">-\n  " + text
    source = f"key: {written}\n"
    document = parse_yaml(source)
    assert document.data == {"key": text}
    for offset, char in enumerate(text):
        if char != " ":
            assert source[document.scalar_index(("key",), offset)] == char


def test_position_falls_back_to_the_nearest_ancestor():
    document = parse_yaml("a:\n  b: 1\n")
    assert document.position(("a", "b", "c")).line == 2
    assert document.position(("zzz",)).line == 1


def test_merge_keys_are_reported_and_anchors_for_whole_values_work():
    document = parse_yaml("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\nsame: *b\n")
    assert document.data == {"base": {"x": 1}, "other": {"y": 2}, "same": {"x": 1}}
    assert codes(document) == [("yaml_merge_key", 3, 3, "error")]


def test_positions_are_a_mapping_of_every_value_and_key():
    document = parse_yaml("a:\n  - x: 1\n    y: 'two'\nb: |\n  text\n")
    assert set(document.positions) == {(), ("a",), ("a", 0), ("a", 0, "x"), ("a", 0, "y"), ("b",)}
    assert set(document.key_positions) == {("a",), ("a", 0, "x"), ("a", 0, "y"), ("b",)}
    assert len(document.positions) == 6 and ("a", 0, "y") in document.positions and ("c",) not in document.positions
    y = document.positions[("a", 0, "y")]
    assert (y.line, y.column, y.style, document.source[y.start : y.end]) == (3, 8, "'", "'two'")
    assert document.positions[("a", 0, "y")] is y  # made once, then kept
    assert document.positions[("b",)].style == "|" and document.positions.get(("c",)) is None


def test_the_pure_python_reader_tags_nodes_as_libyaml_does():
    import yaml

    from engine.rules.yaml_source import _Loader, _python_loader

    def shape(node):
        if isinstance(node, yaml.ScalarNode):
            value = node.value
        elif isinstance(node, yaml.MappingNode):
            value = [(shape(key), shape(item)) for key, item in node.value]
        else:
            value = [shape(item) for item in node.value]
        return (node.tag, node.start_mark.index, node.end_mark.index, value)

    text = "a: !!str 1e5\nb: [1, x, 'q', ~]\n<<: {c: no}\nd: !x y\ne: &r {f: 2}\ng: *r\n"
    assert shape(yaml.compose(text, Loader=_python_loader())) == shape(yaml.compose(text, Loader=_Loader))
