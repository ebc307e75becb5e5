"""`accrual check` on a bundle's reward catalog: each problem placed at its line with its code."""

from engine.rules.loader import load_bundle_text

BASE = """program: {key: cafe, name: Cafe}
assets:
  - {symbol: STAMP, name: Stamps, scale: 0}
rewards:
"""


def problems(catalog: str) -> list[tuple[str, int, str]]:
    loaded = load_bundle_text(BASE + catalog, "b.yaml")
    return [(p.code, p.line, p.message) for p in loaded.problems if p.severity == "error"]


def test_a_consistent_catalog_has_no_problem():
    catalog = """  - {name: Coffee, redemption_type: UNIT_BASED, asset_id: STAMP, unit_cost: "10", max_total: 5,
     available_from: "2026-01-01T00:00:00Z", available_until: "2026-02-01T00:00:00Z"}
  - {name: Voucher, redemption_type: AMOUNT_BASED, asset_id: STAMP, unit_cost: "1", status: DRAFT}
"""
    assert problems(catalog) == []


def test_names_assets_scales_and_contradictions_are_reported_where_they_are():
    catalog = """  - {name: Coffee, redemption_type: UNIT_BASED, asset_id: STAMP, unit_cost: "10"}
  - {name: Coffee, redemption_type: UNIT_BASED, asset_id: STAMPS, unit_cost: "10"}
  - {name: Cake, redemption_type: UNIT_BASED, asset_id: STAMP, unit_cost: "2.5"}
  - {name: Voucher, redemption_type: AMOUNT_BASED, asset_id: STAMP, unit_cost: "0", max_per_participant: 2}
  - {name: Later, redemption_type: UNIT_BASED, asset_id: STAMP, unit_cost: "1",
     available_from: "2026-02-01T00:00:00Z", available_until: "2026-01-01T00:00:00Z"}
"""
    assert problems(catalog) == [
        ("duplicate_reward", 6, "duplicate reward name 'Coffee' (first at line 5)"),
        ("unknown_asset", 6, "unknown asset 'STAMPS'; did you mean 'STAMP'?"),
        ("invalid_scale", 7, "unit_cost 2.5 has more than 0 decimal places"),
        ("invalid_value", 8, "reward 'Voucher': unit_cost must be positive"),
        ("invalid_value", 8, "reward 'Voucher': max_per_participant applies to UNIT_BASED rewards only"),
        ("invalid_value", 10, "reward 'Later': available_until must be after available_from"),
    ]


def test_the_schema_refuses_unknown_fields_and_a_status_that_follows_the_stock():
    catalog = """  - {name: Coffee, redemption_type: UNIT_BASED, asset_id: STAMP, unit_cost: "10", colour: red}
  - {name: Tea, redemption_type: UNIT_BASED, asset_id: STAMP, unit_cost: "10", status: OUT_OF_STOCK}
"""
    assert [(code, line) for code, line, _ in problems(catalog)] == [("unknown_field", 5), ("invalid_value", 6)]
