"""The reward catalog of a bundle through `accrual apply` (`POST /v1/programs/apply`) and on the
database: created, then up to date, patched, archived when removed and revived when listed again;
type and asset changes reported, not applied; OUT_OF_STOCK on the server is ACTIVE in the file."""

from __future__ import annotations

from api.apply_target import DatabaseTarget
from api.queries.apply import apply_bundle
from engine.store.db import database_proxy
from engine.store.models import RewardRecord
from tests.api.conftest import client, database, database_url, settings  # noqa: F401 - fixtures
from tests.engine.rules.test_plan import bundle_of, described, server  # noqa: F401 - fixture

CATALOG = """
program: {key: cafe, name: Cafe}
assets:
  - {symbol: STAMP, name: Stamps, scale: 0}
  - {symbol: EUR, name: Euro credit, scale: 2}
rewards:
  - {name: Free coffee, redemption_type: UNIT_BASED, asset_id: STAMP, unit_cost: "10", max_total: 500,
     category: drinks, metadata: {sku: C1}}
  - {name: Gift card, redemption_type: AMOUNT_BASED, asset_id: EUR, unit_cost: "5.00",
     available_until: "2030-01-01T00:00:00+01:00"}
"""


def rewards(server, program_id: str) -> dict[str, dict]:  # noqa: F811
    listed = server.list(f"/v1/programs/{program_id}/rewards", include_archived="true")
    return {reward["name"]: reward for reward in listed}


def test_a_catalog_is_created_after_its_assets_and_then_up_to_date(server):  # noqa: F811
    assert described(server.plan(CATALOG)) == [
        "create program cafe",
        "create asset STAMP",
        "create asset EUR",
        "create reward Free coffee",
        "create reward Gift card",
    ]
    program_id = server.apply(CATALOG)["program_id"]
    made = rewards(server, program_id)
    assert (made["Free coffee"]["status"], made["Free coffee"]["max_total"], made["Gift card"]["unit_cost"]) == (
        "ACTIVE",
        500,
        "5.00",
    )
    assert server.plan(CATALOG).steps == []  # "10" = "10", +01:00 = the same instant in Z


def test_changes_are_patched_removed_rewards_archived_and_listed_ones_revived(server):  # noqa: F811
    program_id = server.apply(CATALOG)["program_id"]
    changed = CATALOG.replace('unit_cost: "10", max_total: 500', 'unit_cost: "12", max_total: 400')
    changed = changed[: changed.index("  - {name: Gift card")]
    plan = server.plan(changed)
    assert described(plan) == [
        "update reward Free coffee (max_total, unit_cost)",
        "archive reward Gift card (status)",
    ]
    server.apply(changed)
    made = rewards(server, program_id)
    assert (made["Free coffee"]["unit_cost"], made["Gift card"]["status"]) == ("12", "ARCHIVED")
    assert server.plan(changed).steps == []
    assert described(server.plan(CATALOG)) == [
        "update reward Free coffee (max_total, unit_cost)",
        "update reward Gift card (status)",
    ]
    server.apply(CATALOG)
    assert rewards(server, program_id)["Gift card"]["status"] == "ACTIVE"


def test_type_and_asset_changes_are_problems_and_out_of_stock_is_active(server):  # noqa: F811
    program_id = server.apply(CATALOG)["program_id"]
    retyped = CATALOG.replace(
        "redemption_type: UNIT_BASED, asset_id: STAMP", "redemption_type: AMOUNT_BASED, asset_id: EUR"
    )
    retyped = retyped.replace(", max_total: 500", "")
    assert sorted(server.plan(retyped).problems) == [
        "reward Free coffee: asset_id is 'STAMP' on the server and 'EUR' in the file (immutable)",
        "reward Free coffee: redemption_type is 'UNIT_BASED' on the server and 'AMOUNT_BASED' in the file (immutable)",
    ]
    with database_proxy.connection_context():
        RewardRecord.update(redeemed_count=500, status="OUT_OF_STOCK").where(
            RewardRecord.name == "Free coffee"
        ).execute()
    assert rewards(server, program_id)["Free coffee"]["status"] == "OUT_OF_STOCK"
    assert server.plan(CATALOG).steps == []


def test_the_database_target_applies_a_catalog_like_http(database):  # noqa: F811
    target = DatabaseTarget.for_organisation("acme")
    program_id = apply_bundle(target.principal, bundle_of(CATALOG), dry_run=False).program_id
    assert program_id is not None
    assert sorted(reward["name"] for reward in target.rewards(program_id)) == ["Free coffee", "Gift card"]
    assert apply_bundle(target.principal, bundle_of(CATALOG), dry_run=False).steps == []
