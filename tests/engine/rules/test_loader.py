from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rules.loader import LoadedBundle, load_bundle, load_bundle_text

HEAD = """program: {key: demo, name: Demo}
assets:
  - {symbol: PTS, name: Points, scale: 0}
rules:
"""


def located(loaded: LoadedBundle):
    return [(p.code, p.line, p.column, p.severity) for p in loaded.problems]


def test_a_valid_bundle_compiles():
    loaded = load_bundle_text(
        HEAD + "  - name: earn\n    condition: event.type == 'purchase'\n"
        "    actions:\n      - type: CREDIT\n        asset_id: PTS\n        amount: round(event.amount, 0)\n"
    )
    assert loaded.ok and loaded.problems == []
    assert [rule.name for rule in loaded.program.rules] == ["earn"]
    assert loaded.bundle.program.key == "demo"


def test_expression_error_in_a_plain_scalar_points_inside_the_expression():
    loaded = load_bundle_text(
        HEAD + "  - name: earn\n    condition: event.type == 'purchase' && evnt.amount > 1.0\n"
        "    actions: [{type: CREDIT, asset_id: PTS, amount: 1}]\n",
        filename="b.yaml",
    )
    assert located(loaded) == [("DSL_UNKNOWN_NAME", 6, 44, "error")]
    assert "did you mean 'event'?" in loaded.problems[0].message
    assert loaded.program is None and loaded.bundle is not None


def test_expression_error_in_a_block_scalar_counts_lines_inside_the_block():
    loaded = load_bundle_text(
        HEAD + "  - name: earn\n    condition: >-\n      event.type == 'purchase' &&\n"
        "        event.amount >> 2.0\n    actions: [{type: CREDIT, asset_id: PTS, amount: 1}]\n"
    )
    [(code, line, column, _)] = located(loaded)
    assert (code, line) == ("DSL_SYNTAX", 8)
    assert column in (23, 24)  # at the stray `>`


def test_expression_error_in_a_double_quoted_amount():
    loaded = load_bundle_text(
        HEAD + '  - name: earn\n    condition: "true"\n'
        '    actions: [{type: CREDIT, asset_id: PTS, amount: "round(event.amount, \\"0\\") + foo"}]\n'
    )
    [(code, line, column, _)] = located(loaded)
    assert code == "DSL_UNKNOWN_NAME" and line == 7
    assert loaded.document.source.splitlines()[line - 1][column - 1 : column + 2] == "foo"


def test_every_problem_of_the_file_is_reported_together():
    loaded = load_bundle_text(
        HEAD
        + "  - name: a\n    condition: nope(1)\n    actions: [{type: CREDIT, asset_id: PTX, amount: 1}]\n"
        + "  - name: b\n    condition: 'true'\n    actions: [{type: TAG}]\n"
        + "  - name: a\n    condition: 'true'\n    actions: [{type: TAG, tag: t}]\n"
    )
    codes = [code for code, *_ in located(loaded)]
    assert codes == ["DSL_UNKNOWN_FUNCTION", "unknown_asset", "missing_field", "duplicate_rule_name"]


def test_problems_of_rules_after_a_dropped_rule_point_at_the_right_rule():
    loaded = load_bundle_text(
        HEAD + "  - {name: broken}\n  - name: later\n    condition: missing_var\n    actions: [{type: TAG, tag: t}]\n"
    )
    assert [(code, line) for code, line, *_ in located(loaded)] == [("missing_field", 5), ("DSL_UNKNOWN_NAME", 7)]


def test_warnings_do_not_make_a_bundle_fail():
    loaded = load_bundle_text(
        "program: {key: demo, name: Demo}\nassets:\n  - {symbol: PTS, name: Points, scale: 0}\n"
        "rules:\n  - {name: r, condition: 'true', actions: [{type: TAG, tag: t}]}\n"
    )
    assert loaded.ok and loaded.program is not None
    assert [p.code for p in loaded.warnings] == ["unused_asset"]


def test_yaml_syntax_error_gives_no_bundle():
    loaded = load_bundle_text("program: {key: demo\n", filename="x.yaml")
    assert loaded.bundle is None and loaded.program is None
    assert [p.code for p in loaded.problems] == ["yaml_syntax"]
    assert loaded.problems[0].file == "x.yaml"


def test_octal_warning_is_kept_alongside_a_clean_load():
    loaded = load_bundle_text(
        HEAD + "  - {name: r, condition: 'true', actions: [{type: CREDIT, asset_id: PTS, amount: 010}]}\n"
    )
    assert loaded.ok
    assert [p.code for p in loaded.problems] == ["octal_looking_number"]


def test_empty_and_non_mapping_files():
    assert [p.code for p in load_bundle_text("").problems] == ["empty_bundle"]
    assert [p.code for p in load_bundle_text("just text\n").problems] == ["wrong_type"]


def test_wrong_program_gives_no_bundle_but_other_problems_still_show():
    loaded = load_bundle_text("program: {key: Bad Key, name: x}\nrules:\n  - {name: r}\n")
    assert loaded.bundle is None
    assert [p.code for p in loaded.problems] == ["invalid_value", "missing_field"]


def test_load_bundle_reads_files_and_reports_unreadable_ones(tmp_path: Path):
    path = tmp_path / "b.yaml"
    path.write_text("program: {key: demo, name: Demo}\n", encoding="utf-8")
    assert load_bundle(path).ok
    missing = load_bundle(tmp_path / "missing.yaml")
    assert [p.code for p in missing.problems] == ["file_unreadable"]
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    assert [p.code for p in load_bundle(binary).problems] == ["file_unreadable"]


def test_problem_format_is_file_line_column():
    loaded = load_bundle_text("program: {key: demo, name: Demo, colour: red}\n", filename="a.yaml")
    assert loaded.problems[0].format().startswith("a.yaml:1:34: error unknown_field: unknown field 'colour'")


def test_naming_an_asset_whose_declaration_is_wrong_is_not_a_second_problem():
    loaded = load_bundle_text(
        "program: {key: demo, name: Demo}\nassets:\n  - {symbol: PTS, name: Points, scale: 99}\n"
        "rules:\n  - {name: r, condition: nope, actions: [{type: CREDIT, asset_id: PTS, amount: 1}]}\n"
        "  - {name: s, condition: 'true', actions: [{type: CREDIT, asset_id: GEMS, amount: 1}]}\n"
    )
    assert [(p.code, p.line) for p in loaded.problems] == [
        ("invalid_value", 3),
        ("DSL_UNKNOWN_NAME", 5),
        ("unknown_asset", 6),
    ]


def test_too_many_rules_is_a_problem_not_an_exception():
    from engine.limits import RULES_PER_PROGRAM_MAX

    rules = "".join(
        f"  - {{name: r{i}, condition: 'true', actions: [{{type: TAG, tag: t}}]}}\n"
        for i in range(RULES_PER_PROGRAM_MAX + 1)
    )
    loaded = load_bundle_text("program: {key: demo, name: Demo}\nrules:\n" + rules)
    assert [p.code for p in loaded.problems] == ["limit_rules_per_program"]


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False, width=32), st.text(max_size=8)
)
_KEYS = st.sampled_from(
    [
        "program",
        "assets",
        "rules",
        "tests",
        "tiers",
        "key",
        "name",
        "symbol",
        "scale",
        "condition",
        "actions",
        "type",
        "tag",
        "asset_id",
        "amount",
        "order",
        "event",
        "expect",
        "levels",
        "rank",
        "budgets",
        "limit",
        "x",
    ]
)
_DATA = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4), max_leaves=25
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_KEYS, _DATA, max_size=5))
def test_any_yaml_data_gives_problems_never_an_exception(data):
    loaded = load_bundle_text(yaml.safe_dump(data))
    assert loaded.ok == (loaded.program is not None)
    for problem in loaded.problems:
        assert problem.line >= 1 and problem.column >= 1 and problem.code


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="ab:-{}[]'\"!&*#|> \n\t", max_size=60))
def test_any_text_gives_problems_never_an_exception(text):
    loaded = load_bundle_text(text)
    # These characters cannot spell `program:`, so no such text is a bundle: it is refused with errors.
    assert not loaded.ok and loaded.errors and loaded.program is None
    lines = [*text.split("\n"), ""]  # a problem at the end of the text is on the line after the last
    for problem in loaded.problems:
        assert 1 <= problem.line <= len(lines), problem
        assert 1 <= problem.column <= len(lines[problem.line - 1]) + 1, problem


def test_an_expiry_on_a_simple_asset_points_at_the_expiry():
    loaded = load_bundle_text(
        HEAD + "  - name: earn\n    condition: 'true'\n    actions:\n"
        "      - {type: CREDIT, asset_id: PTS, amount: 1, expires_at: 8760h}\n",
        filename="b.yaml",
    )
    assert located(loaded) == [("requires_lot_asset", 8, 62, "error")]
    assert "PTS is SIMPLE" in loaded.problems[0].message


def test_a_budget_cron_expression_is_checked_where_it_is_written():
    loaded = load_bundle_text(
        HEAD + "  - name: earn\n    condition: 'true'\n    actions: [{type: CREDIT, asset_id: PTS, amount: 1}]\n"
        "    budgets: [{asset_id: PTS, limit: '10', schedule_type: CRON, cron_expression: '0 0 * *'}]\n",
        filename="b.yaml",
    )
    assert located(loaded) == [("invalid_cron", 8, 82, "error")]
    assert "has 4 fields" in loaded.problems[0].message
