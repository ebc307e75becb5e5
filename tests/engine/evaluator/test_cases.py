from decimal import Decimal

import pytest

from engine.evaluator.cases import TestInputError, program_state_from_input, run_test_cases, state_from_input
from engine.model.bundle import ProgramStateInput, StateInput
from engine.model.state import Balance, CounterState, TierState
from engine.rules.loader import load_bundle_text

BUNDLE = """program: {key: demo, name: Demo}
assets:
  - {symbol: PTS, name: Points, scale: 2}
tiers:
  - key: status
    levels:
      - {key: base, rank: 0}
      - {key: gold, rank: 2}
rules:
  - name: earn
    order: 10
    condition: event.type == "purchase"
    actions:
      - type: CREDIT
        asset_id: PTS
        amount: round(event.amount * 0.1, 2)
      - {type: COUNTER, key: purchases, value: 1}
      - {type: TAG, tag: buyer}
  - name: gold_bonus
    order: 20
    condition: event.type == "purchase" && participant.tiers.status.level == "gold"
    actions: [{type: CREDIT, asset_id: PTS, amount: 5}]
  - name: gift
    order: 30
    condition: event.type == "gift"
    actions: [{type: CREDIT, asset_id: PTS, amount: 1}]
tests:
"""


def run(tests):
    loaded = load_bundle_text(BUNDLE + tests)
    assert loaded.ok, [p.format() for p in loaded.problems]
    return run_test_cases(loaded)


def test_state_from_input_converts_numbers_levels_and_holds():
    loaded = load_bundle_text(BUNDLE)
    state = state_from_input(
        StateInput(
            tags=["VIP"],
            counters={"purchases": 3, "spend": "12.5"},
            tiers={"status": "gold"},
            balances={"PTS": 10, "GEMS": {"held": "2.5"}},
            holds={"PTS": {"auth-1": 4}},
        ),
        loaded.bundle,
    )
    assert state.tags == ["vip"]
    assert state.counters == {"purchases": CounterState(value=Decimal(3)), "spend": CounterState(value=Decimal("12.5"))}
    assert state.tiers == {"status": TierState(level="gold", rank=2)}
    assert state.balances == {"PTS": Balance(available=Decimal(10)), "GEMS": Balance(held=Decimal("2.5"))}
    assert state.holds == {"PTS": {"auth-1": Decimal(4)}}


@pytest.mark.parametrize(
    "state, message",
    [
        (StateInput(counters={"a": "ten"}), "counter 'a': 'ten' is not a number"),
        (StateInput(counters={"a": "NaN"}), "not a finite number"),
        (StateInput(tiers={"status": "platinum"}), "tier 'status' has no level 'platinum'"),
        (StateInput(tiers={"rank": "gold"}), "unknown tier 'rank'"),
        (StateInput(balances={"PTS": {"pending": 1}}), "unknown bucket 'pending'"),
    ],
)
def test_state_from_input_rejects_what_cannot_be_state(state, message):
    with pytest.raises(TestInputError, match=message) as caught:
        state_from_input(state, load_bundle_text(BUNDLE).bundle)
    assert caught.value.code == "invalid_test_input"


def test_program_state_from_input():
    state = program_state_from_input(
        ProgramStateInput(tags=["Launch"], counters={"signups": 7}, wallet={"PTS": "1000"}),
        load_bundle_text(BUNDLE).bundle,
    )
    assert state.tags == ["launch"]
    assert state.counters["signups"].value == Decimal(7)
    assert state.wallet == {"PTS": Balance(available=Decimal(1000))}


def test_passing_case_compares_every_given_expectation():
    [result] = run(
        "  - name: gold purchase\n    event: {type: purchase, amount: 123.4}\n"
        "    participant: {tiers: {status: gold}, balances: {PTS: 1}, counters: {purchases: 2}}\n"
        "    expect:\n      status: COMPLETED\n      matched: [earn, gold_bonus]\n"
        "      statuses: {earn: MATCHED, gift: NOT_MATCHED}\n"
        "      credits: {PTS: 17.34}\n      tags: [buyer]\n      counters: {purchases: 3}\n"
        "      tiers: {status: gold}\n      balances: {PTS: {available: '18.34', held: 0}}\n"
    )
    assert result.passed, result.diff
    assert result.result.status == "COMPLETED"
    assert all(outcome.trace is not None for outcome in result.result.rules)


def test_failing_case_explains_each_difference():
    [result] = run(
        "  - name: wrong\n    event: {type: purchase, amount: 10}\n"
        "    expect:\n      matched: [earn, gold_bonus]\n      credits: {PTS: 2}\n"
        "      tags: [buyer, vip]\n      counters: {purchases: 5, visits: 1}\n"
        "      statuses: {gift: MATCHED}\n      attributes: {city: Paris}\n"
    )
    assert not result.passed
    assert result.diff == [
        "matched: expected [earn, gold_bonus], got [earn]",
        "statuses.gift: expected MATCHED, got NOT_MATCHED",
        (
            "rule gold_bonus errored (SKIPPED_ERROR): no such key: 'status'; if that is meant, expect it with "
            "`statuses: {gold_bonus: SKIPPED_ERROR}`"
        ),
        "credits.PTS: expected 2, got 1.00",
        "tags: expected [buyer, vip], got [buyer] (missing: vip)",
        "counters.purchases: expected 5, got 1",
        "counters.visits: expected 1, got nothing",
        "attributes.city: expected Paris, got nothing",
        "rules: earn MATCHED, gold_bonus SKIPPED_ERROR (DSL_NO_SUCH_KEY: no such key: 'status'), gift NOT_MATCHED",
    ]


def test_a_rule_that_errors_fails_the_case_unless_the_case_expects_it():
    """In production the event would complete with fewer points and nobody would notice."""
    case = "  - name: no tier\n    event: {type: purchase, amount: 10}\n    expect:\n      credits: {PTS: 1}\n"
    [quiet] = run(case)
    assert not quiet.passed and quiet.diff[0].startswith("rule gold_bonus errored (SKIPPED_ERROR)")
    [expected] = run(case + "      statuses: {gold_bonus: SKIPPED_ERROR}\n")
    assert expected.passed, expected.diff


def test_unexpected_credits_are_differences_when_credits_are_expected():
    [result] = run("  - name: none expected\n    event: {type: gift}\n    expect: {credits: {}}\n")
    assert result.diff[0] == "credits.PTS: expected nothing, got 1.00"


def test_recipient_expectations():
    [result] = run(
        "  - name: gift to a friend\n    event: {type: gift}\n    recipient: {external_id: friend}\n"
        "    expect:\n      recipient: {credits: {PTS: 1}, balances: {PTS: 1}}\n      balances: {PTS: 0}\n"
    )
    assert result.passed, result.diff
    [missing] = run("  - name: no recipient\n    event: {type: gift}\n    expect: {recipient: {credits: {PTS: 1}}}\n")
    assert missing.diff[0] == "recipient: expected a recipient, the event had none"


def test_bad_state_input_fails_the_case_with_a_reason():
    [result] = run("  - name: bad counter\n    event: {type: gift}\n    participant: {counters: {a: lots}}\n")
    assert not result.passed and result.result is None
    assert result.diff == ["cannot build the state: counter 'a': 'lots' is not a number"]


def test_budget_consumption_is_given_to_the_engine():
    loaded = load_bundle_text(
        BUNDLE.replace(
            "    actions: [{type: CREDIT, asset_id: PTS, amount: 1}]\n",
            "    actions: [{type: CREDIT, asset_id: PTS, amount: 1}]\n    budgets: [{asset_id: PTS, limit: '10'}]\n",
        )
        + "  - name: spent budget\n    event: {type: gift}\n    budgets_consumed: {gift: {PTS: 10}}\n"
        "    expect: {statuses: {gift: BUDGET_EXCEEDED}, credits: {}}\n"
    )
    [result] = run_test_cases(loaded)
    assert result.passed, result.diff


def test_a_bundle_that_does_not_compile_runs_no_cases():
    loaded = load_bundle_text(
        BUNDLE.replace('"purchase"\n    actions', "nope\n    actions", 1) + "  - {name: t, event: {}}\n"
    )
    assert not loaded.ok
    assert run_test_cases(loaded) == []


GROUP_RULES = """  - name: pool
    order: 40
    condition: group != null && event.type == "purchase"
    actions:
      - type: CREDIT
        asset_id: PTS
        amount: round(event.amount * 0.1, 2)
        target: {type: GROUP, id: group.id}
      - {type: COUNTER, key: purchases, value: 1, target: {type: GROUP, id: event.group_id}}
      - {type: TAG, tag: Pooling, target: {type: GROUP, id: group.id}}
"""


def run_grouped(tests):
    loaded = load_bundle_text(BUNDLE.replace("tests:\n", GROUP_RULES + "tests:\n") + tests)
    assert loaded.ok, [p.format() for p in loaded.problems]
    return run_test_cases(loaded)


def test_a_case_gives_the_group_and_expects_it_after_the_event():
    (result,) = run_grouped(
        """  - name: pooled
    event: {type: purchase, amount: 100, group_id: g1}
    participant: {tiers: {status: base}}
    group: {name: Smiths, counters: {purchases: 2}, balances: {PTS: 5}, attributes: {plan: family}}
    expect:
      credits: {PTS: 20}
      group:
        credits: {PTS: 10}
        balances: {PTS: 15}
        counters: {purchases: 3}
        tags: [pooling]
        attributes: {plan: family}
"""
    )
    assert (result.passed, result.diff) == (True, [])
    assert result.result.group.id == "g1"


def test_group_differences_are_named_with_the_group_prefix():
    (result,) = run_grouped(
        """  - name: wrong
    event: {type: purchase, amount: 100, group_id: g1}
    participant: {tiers: {status: base}}
    group: {balances: {PTS: {available: 5, held: 1}}}
    expect:
      group: {balances: {PTS: {available: 20, held: 1}}, counters: {purchases: 2}, tags: []}
"""
    )
    assert result.diff[:3] == [
        "group.tags: expected [], got [pooling] (unexpected: pooling)",
        "group.counters.purchases: expected 2, got 1",
        "group.balances.PTS.available: expected 20, got 15.00",
    ]


@pytest.mark.parametrize(
    "case, message",
    [
        ("event: {type: purchase, amount: 1}\n    group: {name: Smiths}", "give its id, or name it with `group_id`"),
        (
            "event: {type: purchase, amount: 1, group_id: g1}\n    group: {id: g2}",
            "id 'g2' is not the event's group_id",
        ),
        ("event: {type: purchase, amount: 1, group_id: g1}\n    group: {balances: {PTS: x}}", "balance PTS: 'x'"),
    ],
)
def test_a_group_that_cannot_be_state_fails_the_case_with_the_reason(case, message):
    (result,) = run_grouped(f"  - name: bad\n    {case}\n")
    assert not result.passed and message in result.diff[0]


def test_expecting_a_group_of_a_case_without_one_is_a_difference():
    (result,) = run_grouped("  - name: none\n    event: {type: gift}\n    expect: {group: {tags: []}}\n")
    assert result.diff[0] == "group: expected a group, the case gives none"


def test_check_places_unknown_assets_of_the_group_given_and_expected():
    text = BUNDLE.replace("tests:\n", GROUP_RULES + "tests:\n")
    loaded = load_bundle_text(
        text
        + """  - name: typo
    event: {type: purchase, amount: 1, group_id: g1}
    group: {balances: {PTX: 1}}
    expect: {group: {credits: {PTS: 1}, balances: {PTZ: 1}}}
"""
    )
    start = text.count("\n") + 1
    assert [(p.code, p.line, p.message) for p in loaded.problems if p.severity == "error"] == [
        ("unknown_asset", start + 2, "unknown asset 'PTX'; did you mean 'PTS'?"),
        ("unknown_asset", start + 3, "unknown asset 'PTZ'; did you mean 'PTS'?"),
    ]


LOT_GROUP_BUNDLE = """program: {key: fam, name: Family}
assets:
  - {symbol: MILES, name: Miles, scale: 0, inventory_mode: LOT}
rules:
  - name: redeem
    order: 10
    condition: group != null && event.type == "redeem"
    actions:
      - {type: DEBIT, asset_id: MILES, amount: event.miles, target: {type: GROUP, id: group.id}}
  - name: pool
    order: 20
    condition: group != null && event.type == "purchase"
    actions:
      - {type: CREDIT, asset_id: MILES, amount: 50, expires_at: 8760h, target: {type: GROUP, id: group.id}}
tests:
"""

GROUP_TIER_BUNDLE = """program: {key: family, name: Family}
assets:
  - {symbol: PTS, name: Points, scale: 2}
tiers:
  - key: household
    levels:
      - {key: bronze, rank: 0}
      - {key: silver, rank: 1, qualification: {criteria: [{counter: spend, operator: ">=", threshold: 1000}]}}
      - {key: gold, rank: 2}
rules:
  - name: count
    order: 10
    condition: group != null && event.type == "purchase"
    actions:
      - {type: COUNTER, key: spend, value: event.amount, target: {type: GROUP, id: group.id}}
  - name: promote
    order: 20
    condition: group != null && event.type == "promo"
    actions:
      - {type: SET_TIER, tier: household, level: gold, target: {type: GROUP, id: group.id}}
  - name: gold_bonus
    order: 30
    condition: group != null && "household" in group.tiers && group.tiers.household.level == "gold"
    actions:
      - {type: CREDIT, asset_id: PTS, amount: 5, target: {type: GROUP, id: group.id}}
tests:
"""


def run_lot_group(tests):
    loaded = load_bundle_text(LOT_GROUP_BUNDLE + tests)
    assert loaded.ok, [p.format() for p in loaded.problems]
    return run_test_cases(loaded)


def run_group_tiers(tests):
    loaded = load_bundle_text(GROUP_TIER_BUNDLE + tests)
    assert loaded.ok, [p.format() for p in loaded.problems]
    return run_test_cases(loaded)


def test_a_case_gives_the_groups_lots_and_expects_them_after_the_event():
    (result,) = run_lot_group(
        """  - name: spends the oldest
    event: {type: redeem, miles: 30, group_id: g1}
    received_at: 2026-06-01T00:00:00Z
    group:
      lots:
        MILES:
          - {amount: 20, created_at: 2026-01-01T00:00:00Z, expires_at: 2026-05-01T00:00:00Z}
          - {amount: 25, created_at: 2026-02-01T00:00:00Z}
          - {amount: 40, created_at: 2026-03-01T00:00:00Z}
    expect:
      group:
        debits: {MILES: 30}
        balances: {MILES: 35}
        lots: {MILES: [{remaining: 35}]}
        expired: {MILES: 20}
"""
    )
    assert (result.passed, result.diff) == (True, [])


def test_a_groups_lot_differences_are_named_with_the_group_prefix():
    (result,) = run_lot_group(
        """  - name: wrong
    event: {type: purchase, group_id: g1}
    received_at: 2026-06-01T00:00:00Z
    group: {balances: {MILES: 10}}
    expect:
      group: {lots: {MILES: [{remaining: 10}, {remaining: 50, expires_at: 2027-01-01T00:00:00Z}]}, expired: {MILES: 1}}
"""
    )
    assert result.diff[:2] == [
        "group.lots.MILES[1].expires_at: expected 2027-01-01 00:00:00+00:00, got 2027-06-01 00:00:00+00:00",
        "group.expired.MILES: expected 1, got 0",
    ]


def test_group_lots_of_an_asset_that_is_not_lot_fail_the_case_with_the_reason():
    loaded = load_bundle_text(
        LOT_GROUP_BUNDLE.replace("assets:\n", "assets:\n  - {symbol: PTS, name: Points, scale: 0}\n")
        + "  - name: bad\n    event: {type: redeem, miles: 1, group_id: g1}\n"
        + "    group: {lots: {PTS: [{amount: 5}]}}\n"
    )
    (result,) = run_test_cases(loaded)
    assert result.diff == ["cannot build the state: group: lots are given for PTS, which is not a LOT asset"]


def test_a_group_level_set_by_a_rule_is_seen_by_later_rules_and_expected_after_the_event():
    (result,) = run_group_tiers(
        """  - name: promoted
    event: {type: promo, group_id: g1}
    group: {tiers: {household: bronze}}
    expect: {group: {tiers: {household: gold}, credits: {PTS: 5}}, tiers: {household: null}}
"""
    )
    assert result.passed, result.diff
    assert result.result.group.tiers["household"].rank == 2
    assert [c.target.type for c in result.result.state_changes if c.state_type == "tier"] == ["GROUP"]


def test_a_group_qualifies_on_its_own_counters_and_an_archived_group_does_not():
    passed, archived = run_group_tiers(
        """  - name: qualifies
    event: {type: purchase, amount: 400, group_id: g1}
    group: {counters: {spend: 700}}
    expect: {group: {tiers: {household: silver}, counters: {spend: 1100}}}
  - name: archived
    event: {type: purchase, amount: 400, group_id: g1}
    group: {status: ARCHIVED, counters: {spend: 700}}
    expect: {status: FAILED, error_code: group_archived}
"""
    )
    assert passed.passed, passed.diff
    assert archived.passed, archived.diff


def test_a_group_given_at_a_level_is_seen_by_its_rules():
    (result,) = run_group_tiers(
        """  - name: gold already
    event: {type: visit, group_id: g1}
    group: {tiers: {household: gold}}
    expect: {group: {credits: {PTS: 5}, tiers: {household: gold}}}
"""
    )
    assert result.passed, result.diff


def test_check_places_unknown_levels_of_the_group_given_and_expected():
    loaded = load_bundle_text(
        GROUP_TIER_BUNDLE
        + """  - name: typo
    event: {type: visit, group_id: g1}
    group: {tiers: {household: golld}}
    expect: {group: {tiers: {household: sliver}}}
"""
    )
    start = GROUP_TIER_BUNDLE.count("\n") + 1
    assert [(p.code, p.line) for p in loaded.problems if p.severity == "error"] == [
        ("unknown_tier_level", start + 2),
        ("unknown_tier_level", start + 3),
    ]
