from engine.rules.problems import ProblemSink
from engine.rules.schema_check import SchemaChecker
from engine.rules.yaml_source import parse_yaml

HEAD = "program:\n  key: demo\n  name: Demo\n"


def check(text):
    document = parse_yaml(text)
    sink = ProblemSink("b.yaml", document)
    checker = SchemaChecker(document, sink)
    bundle = checker.check()
    return checker, bundle, [(p.code, p.line, p.column) for p in sink.sorted()], sink


def test_valid_bundle_converts_every_piece():
    checker, bundle, problems, _ = check(
        HEAD + "assets:\n  - {symbol: PTS, name: Points, scale: 0}\n"
        "rules:\n  - name: r\n    condition: 'true'\n    actions:\n      - {type: CREDIT, asset_id: PTS, amount: 5}\n"
    )
    assert problems == []
    assert checker.program_ok and checker.complete
    assert bundle.rules[0].actions[0].amount == 5


def test_every_problem_of_a_piece_is_reported_not_just_the_first():
    _, _, problems, sink = check(
        HEAD + "rules:\n  - name: r\n    condtion: 'true'\n    stop_after_match: yes\n    order: 0\n"
        "    actions:\n      - {type: TAG}\n      - {type: TAGG, tag: x}\n      - {type: TAG, tag: ok, colour: red}\n"
    )
    assert problems == [
        ("missing_field", 5, 5),  # `condition`, once the misspelt key is dropped
        ("unknown_field", 6, 5),
        ("wrong_type", 7, 23),
        ("invalid_value", 8, 12),
        ("missing_field", 10, 9),
        ("unknown_action_type", 11, 16),
        ("unknown_field", 12, 30),
    ]
    messages = {p.code: p.message for p in sink.problems}
    assert "did you mean 'condition'?" in messages["unknown_field"]
    assert "write true or false" in messages["wrong_type"]


def test_wrong_value_does_not_also_report_it_missing():
    _, _, problems, _ = check(HEAD + "assets:\n  - {symbol: P, name: P, scale: nineteen}\n")
    assert problems == [("wrong_type", 5, 33)]


def test_literal_choices_are_listed():
    _, _, _, sink = check(HEAD + "assets:\n  - {symbol: P, name: P, scale: 0, issuance_policy: prefunded}\n")
    [problem] = sink.problems
    assert problem.code == "invalid_value"
    assert problem.message == "'prefunded' is not allowed here; one of: PREFUNDED, UNLIMITED"


def test_number_where_text_is_wanted_suggests_quoting():
    _, _, _, sink = check(
        HEAD + "assets:\n  - {symbol: P, name: P, scale: 0}\nrules:\n  - name: r\n    condition: 'true'\n"
        "    actions: [{type: CREDIT, asset_id: P, amount: 1}]\n    budgets: [{asset_id: P, limit: 100}]\n"
    )
    [problem] = sink.problems
    assert problem.code == "wrong_type" and '"100"' in problem.message


def test_missing_program_and_unknown_top_level_keys():
    checker, bundle, problems, _ = check("rulez: []\n")
    assert problems == [("missing_field", 1, 1), ("unknown_field", 1, 1)]
    assert not checker.program_ok
    assert bundle is not None  # other pieces are still checked


def test_top_level_must_be_a_mapping():
    _, bundle, problems, _ = check("- a\n- b\n")
    assert bundle is None and problems == [("wrong_type", 1, 1)]


def test_sections_must_be_lists():
    _checker, _, problems, _ = check(HEAD + "rules: {name: r}\n")
    assert problems == [("wrong_type", 4, 8)]


def test_origins_map_kept_pieces_to_file_indexes():
    checker, bundle, _, _ = check(
        HEAD + "rules:\n  - {name: bad}\n  - {name: good, condition: 'true', actions: [{type: TAG, tag: t}]}\n"
    )
    assert [rule.name for rule in bundle.rules] == ["good"]
    assert checker.origins["rules"] == [1]
    assert checker.declared["rules"] == {"bad", "good"}


def test_wrong_asset_makes_the_bundle_incomplete():
    checker, _, _, _ = check(HEAD + "assets:\n  - {symbol: 'no spaces', name: P, scale: 0}\n")
    assert checker.program_ok and not checker.complete


def test_problem_inside_a_map_value_points_at_the_map():
    _, _, problems, sink = check(
        HEAD + "tests:\n  - name: t\n    event: {}\n    participant:\n      counters: {a: [1]}\n"
    )
    assert problems == [("wrong_type", 8, 17)]
    assert "a list" in sink.problems[0].message and "text" in sink.problems[0].message


def test_comma_split_expression_in_a_flow_mapping_is_explained():
    _, _, problems, sink = check(
        HEAD + "assets:\n  - {symbol: P, name: P, scale: 0}\nrules:\n  - name: r\n    condition: 'true'\n"
        "    actions: [{type: CREDIT, asset_id: P, amount: round(event.amount, 0)}]\n"
    )
    assert problems == [("unknown_field", 9, 71)]
    assert "inside `{ ... }` a comma ends a value" in sink.problems[0].message


def test_boolean_where_text_is_wanted_suggests_quoting():
    _, _, problems, sink = check(HEAD + "rules:\n  - {name: r, condition: true, actions: [{type: TAG, tag: t}]}\n")
    assert problems == [("wrong_type", 5, 26)]
    assert (
        sink.problems[0].message
        == 'expected text, got true or false: quote it ("true") to write text or a CEL expression'
    )


def test_a_section_that_fits_gives_the_pieces_a_piece_by_piece_check_gives():
    text = (
        HEAD + "assets:\n  - {symbol: PTS, name: Points, scale: 0}\n  - {symbol: EUR, name: Euro, scale: 2}\n"
        "rules:\n  - name: a\n    condition: 'true'\n    actions:\n      - {type: CREDIT, asset_id: PTS, amount: 5}\n"
        "      - {type: TAG, tag: t}\n  - name: b\n    condition: event.x == 1\n"
        "    actions: [{type: SCHEDULE_EVENT, event_name: later, delay: 1h, payload: {k: [1, 2]}}]\n"
    )
    checker, bundle, problems, sink = check(text)
    origins = {"assets": [0, 1], "tiers": [], "rewards": [], "rules": [0, 1], "tests": [],
               "automations": [], "automation_tests": []}  # fmt: skip
    assert problems == [] and checker.origins == origins
    one_by_one = SchemaChecker(sink.document, ProblemSink("b.yaml", sink.document))
    assert [one_by_one._rule(raw, index) for index, raw in enumerate(sink.document.data["rules"])] == bundle.rules
    # the bundle holds copies: changing it never changes the document the positions are read from
    bundle.rules[1].actions[0].payload["k"].append(3)
    assert sink.document.data["rules"][1]["actions"][0]["payload"] == {"k": [1, 2]}
