from engine.rules import references
from engine.rules.problems import ProblemSink
from engine.rules.schema_check import SchemaChecker
from engine.rules.yaml_source import parse_yaml

BASE = """program: {key: demo, name: Demo}
assets:
  - {symbol: POINTS, name: Points, scale: 0}
tiers:
  - key: status
    levels:
      - {key: base, rank: 0}
      - {key: gold, rank: 1}
rules:
  - name: earn
    condition: "true"
    actions: [{type: CREDIT, asset_id: POINTS, amount: 1}]
"""


def problems(extra):
    document = parse_yaml(BASE + extra)
    sink = ProblemSink("b.yaml", document)
    checker = SchemaChecker(document, sink)
    bundle = checker.check()
    assert sink.problems == []
    references.check(bundle, sink, declared=checker.declared)
    return [(p.code, p.line, p.message) for p in sink.sorted()]


def test_a_consistent_bundle_has_no_problem():
    assert problems("tests:\n  - {name: t, event: {}, expect: {matched: [earn], credits: {POINTS: 1}}}\n") == []


def test_duplicate_test_names():
    found = problems("tests:\n  - {name: t, event: {}}\n  - {name: t, event: {}}\n")
    assert found == [("duplicate_test_name", 15, "duplicate test name 't' (first at line 14)")]


def test_duplicates_in_declarations():
    text = BASE.replace(
        "  - {symbol: POINTS, name: Points, scale: 0}\n",
        "  - {symbol: POINTS, name: Points, scale: 0}\n  - {symbol: POINTS, name: Again, scale: 2}\n",
    ).replace("      - {key: gold, rank: 1}\n", "      - {key: gold, rank: 1}\n      - {key: gold, rank: 1}\n")
    document = parse_yaml(text)
    sink = ProblemSink("b.yaml", document)
    references.check(SchemaChecker(document, sink).check(), sink)
    assert [(p.code, p.line) for p in sink.sorted()] == [
        ("duplicate_asset", 4),
        ("duplicate_tier_level", 10),
        ("duplicate_tier_level", 10),
    ]


def test_test_cases_naming_unknown_things_get_suggestions():
    found = problems(
        "tests:\n  - name: t\n    event: {}\n"
        "    participant: {tiers: {status: platinum}, balances: {POINT: 5}}\n"
        "    budgets_consumed: {earn: {POINTS: 1}, missing: {POINTS: 1}}\n"
        "    expect:\n      matched: [ern]\n      statuses: {earn: WON}\n      tiers: {level: gold}\n"
        "      recipient: {credits: {PTS: 1}}\n"
    )
    codes = [(code, line) for code, line, _ in found]
    assert codes == [
        ("unknown_tier_level", 16),
        ("unknown_asset", 16),
        ("unknown_rule", 17),
        ("unknown_rule", 19),
        ("invalid_value", 20),
        ("unknown_tier", 21),
        ("unknown_asset", 22),
    ]
    messages = [message for _, _, message in found]
    assert "unknown asset 'POINT'; did you mean 'POINTS'?" in messages
    assert "unknown rule 'ern'; did you mean 'earn'?" in messages


def test_cron_budget_needs_an_expression():
    text = BASE.replace(
        "    actions: [{type: CREDIT, asset_id: POINTS, amount: 1}]\n",
        "    actions: [{type: CREDIT, asset_id: POINTS, amount: 1}]\n"
        "    budgets: [{asset_id: POINTS, limit: '10', schedule_type: CRON}]\n",
    )
    document = parse_yaml(text)
    sink = ProblemSink("b.yaml", document)
    references.check(SchemaChecker(document, sink).check(), sink)
    assert [(p.code, p.line) for p in sink.problems] == [("missing_field", 13)]


def test_rules_dropped_by_the_schema_check_still_count_as_names():
    document = parse_yaml(BASE + "  - {name: broken}\ntests:\n  - {name: t, event: {}, expect: {matched: [broken]}}\n")
    sink = ProblemSink("b.yaml", document)
    checker = SchemaChecker(document, sink)
    bundle = checker.check()
    before = len(sink.problems)
    references.check(bundle, sink, declared=checker.declared)
    assert len(sink.problems) == before


def test_a_contradictory_lifecycle_is_placed_at_its_field():
    tiers_at = BASE.index("rules:")
    lifecycle = (
        "    lifecycle:\n"
        "      retention: {mode: PERIOD_BASED}\n"
        "      qualification_period: {type: CALENDAR_YEAR}\n"
        "      downgrade_policy: {min_level: gould}\n"
    )
    document = parse_yaml(BASE[:tiers_at] + lifecycle + BASE[tiers_at:])
    sink = ProblemSink("b.yaml", document)
    checker = SchemaChecker(document, sink)
    references.check(checker.check(), sink, declared=checker.declared)
    found = [(p.code, p.line, p.column, p.message) for p in sink.sorted()]
    assert found == [
        ("unknown_tier_level", 12, 37, "min_level 'gould' is not a level of this tier; did you mean 'gold'?")
    ]
