from engine.rules.outline import declarations, definition_at, reference_at, references
from engine.rules.yaml_source import parse_yaml

TEXT = """\
assets:
  - {symbol: PTS, name: Points, scale: 0}
tiers:
  - key: status
    levels: [{key: blue, rank: 0}, {key: gold, rank: 1}]
rules:
  - name: promote
    condition: "true"
    actions:
      - {type: SET_TIER, tier: status, level: gold}
      - {type: CREDIT, asset_id: PTS, amount: 1}
tests:
  - name: t
    event: {}
    participant: {tiers: {status: blue}, balances: {PTS: 3}}
    expect: {matched: [promote], credits: {PTS: "1"}}
"""


def _at(needle: str, occurrence: int = 1) -> tuple[int, int]:
    index = -1
    for _ in range(occurrence):
        index = TEXT.index(needle, index + 1)
    before = TEXT[:index]
    return before.count("\n"), len(before) - before.rfind("\n") - 1


def test_declarations_are_every_name_with_its_place():
    found = {(d.kind, d.name): (d.line, d.character) for d in declarations(parse_yaml(TEXT))}
    assert found == {
        ("asset", "PTS"): _at("PTS"),
        ("tier", "status"): _at("status"),
        ("level", "blue"): _at("blue"),
        ("level", "gold"): _at("gold"),
        ("rule", "promote"): _at("promote"),
    }


def test_references_in_rules_and_test_cases_name_their_kind():
    kinds = {(r.kind, r.name, r.path[0]) for r in references(parse_yaml(TEXT))}
    assert ("tier", "status", "rules") in kinds and ("level", "gold", "rules") in kinds
    assert ("asset", "PTS", "rules") in kinds and ("rule", "promote", "tests") in kinds
    assert ("tier", "status", "tests") in kinds and ("level", "blue", "tests") in kinds
    assert ("asset", "PTS", "tests") in kinds


def test_definition_follows_a_reference_and_a_level_stays_in_its_tier():
    document = parse_yaml(TEXT)
    assert definition_at(document, *_at("gold", 2)).path == ("tiers", 0, "levels", 1, "key")
    assert definition_at(document, *_at("blue", 2)).path == ("tiers", 0, "levels", 0, "key")
    assert definition_at(document, *_at("PTS", 3)).path == ("assets", 0, "symbol")
    assert definition_at(document, *_at("promote", 2)).path == ("rules", 0, "name")


def test_no_reference_under_the_cursor_and_an_undeclared_name_have_no_definition():
    document = parse_yaml(TEXT.replace("asset_id: PTS", "asset_id: GEMS"))
    assert reference_at(document, 0, 0) is None
    line, character = _at("PTS")
    assert definition_at(document, line, character) is None  # a declaration is not a reference
    gems = next(r for r in references(document) if r.name == "GEMS")
    assert definition_at(document, gems.line, gems.character) is None


def test_a_broken_file_still_navigates_what_was_read():
    assert declarations(parse_yaml("rules: [\n")) == []
