"""Test cases that run a participant through time: clock steps apply the lifecycle, events carry
state and schedules forward, and each step's expectations are checked with the step named."""

from __future__ import annotations

from engine.evaluator.cases import run_test_cases
from engine.rules.loader import load_bundle_text

BUNDLE = """
program: {key: club, name: Club, timezone: Asia/Tokyo}
assets:
  - {symbol: PTS, name: Points, scale: 0}
tiers:
  - key: member
    levels:
      - {key: silver, rank: 1}
      - {key: gold, rank: 2, qualification: {criteria: [{counter: visits, operator: ">=", threshold: 3}]}}
    lifecycle:
      retention: {mode: ACTIVITY_REFRESH, duration: 720h}
      downgrade_policy: {mode: DROP_ONE}
  - key: yearly
    levels:
      - {key: plus, rank: 1, qualification: {criteria: [{counter: visits, operator: ">=", threshold: 2}]}}
    lifecycle:
      retention: {mode: PERIOD_BASED}
      qualification_period: {type: CALENDAR_YEAR}
      counters: {qualifying: [visits], rollover: EXCESS}
rules:
  - name: visit
    condition: event.type == "visit"
    actions: [{type: COUNTER, key: visits, value: "1"}]
tests:
"""


def run(tests: str, bundle: str = BUNDLE):
    loaded = load_bundle_text(bundle + tests)
    assert loaded.ok, loaded.problems
    return [(result.name, result.passed, result.diff) for result in run_test_cases(loaded)]


def test_each_event_starts_the_wait_again_and_an_idle_month_drops_a_level():
    found = run(
        """  - name: idle
    participant: {tiers: {member: gold}}
    starts_at: 2026-01-01T00:00:00Z
    steps:
      - {at: 2026-01-25T00:00:00Z, event: {type: visit}, expect: {tiers: {member: gold}}}
      - {at: 2026-02-23T23:00:00Z, expect: {tiers: {member: gold}}}
      - {at: 2026-02-24T00:00:00Z, expect: {tiers: {member: silver}}}
      - {at: 2026-03-26T00:00:00Z, expect: {tiers: {member: null}}}
"""
    )
    assert found == [("idle", True, [])]


def test_a_period_end_in_the_program_zone_rolls_the_excess_over():
    found = run(
        """  - name: yearly
    starts_at: 2026-01-01T00:00:00Z
    steps:
      - {at: 2026-05-01T00:00:00Z, event: {type: visit}}
      - {at: 2026-06-01T00:00:00Z, event: {type: visit}}
      - {at: 2026-07-01T00:00:00Z, event: {type: visit}, expect: {counters: {visits: 3}, tiers: {yearly: plus}}}
      - {at: 2026-12-31T14:59:00Z, expect: {counters: {visits: 3}}}
      - {at: 2026-12-31T15:00:00Z, expect: {counters: {visits: 1}, tiers: {yearly: plus}}}
      - {at: 2027-12-31T15:00:00Z, expect: {counters: {visits: 0}, tiers: {yearly: null}}}
"""
    )
    assert found == [("yearly", True, [])]


def test_a_member_who_never_qualified_starts_the_next_period_from_nothing():
    found = run(
        """  - name: one visit short
    starts_at: 2026-01-01T00:00:00Z
    steps:
      - {at: 2026-05-01T00:00:00Z, event: {type: visit}, expect: {counters: {visits: 1}, tiers: {yearly: null}}}
      - {at: 2026-12-31T15:00:00Z, expect: {counters: {visits: 0}}}
      - {at: 2027-02-01T00:00:00Z, event: {type: visit}, expect: {counters: {visits: 1}, tiers: {yearly: null}}}
"""
    )
    assert found == [("one visit short", True, [])]


def test_differences_name_their_step_and_a_clock_step_cannot_expect_an_event():
    found = run(
        """  - name: wrong
    participant: {tiers: {member: gold}}
    starts_at: 2026-01-01T00:00:00Z
    steps:
      - {at: 2026-01-02T00:00:00Z, event: {type: visit}, expect: {tiers: {member: silver}}}
      - {at: 2026-01-03T00:00:00Z, expect: {matched: [visit], tiers: {member: null}}}
"""
    )
    assert found == [
        (
            "wrong",
            False,
            [
                "step 1 (2026-01-02T00:00:00Z): tiers.member: expected silver, got gold",
                "step 2 (2026-01-03T00:00:00Z): matched: a step without an event has no matched",
                "step 2 (2026-01-03T00:00:00Z): tiers.member: expected no level, got gold",
            ],
        )
    ]


def test_a_case_gives_an_event_or_steps_in_time_order():
    loaded = load_bundle_text(
        BUNDLE
        + """  - {name: neither}
  - name: both
    event: {type: visit}
    steps: [{at: 2026-01-01T00:00:00Z}]
  - name: backwards
    starts_at: 2026-02-01T00:00:00Z
    steps: [{at: 2026-01-10T00:00:00Z}, {at: 2026-01-01T00:00:00Z, expect: {tiers: {member: platinum}}}]
"""
    )
    assert [(p.code, p.line, p.message) for p in loaded.problems if p.severity == "error"] == [
        ("missing_field", 25, "a test case needs `event` (the event_data) or `steps`"),
        ("invalid_value", 27, "a case with `steps` gives each step's event in the step"),
        ("invalid_value", 30, "starts_at must not be after the first step"),
        ("invalid_value", 31, "steps go in time order: this one is earlier"),
        ("unknown_tier_level", 31, "unknown level of tier 'member' 'platinum'"),
    ]


GROUP_JOURNEY = """
program: {key: fam, name: Family}
assets:
  - {symbol: FAM, name: Family miles, scale: 0}
rules:
  - name: pool
    condition: event.type == "purchase" && group != null
    actions:
      - {type: CREDIT, asset_id: FAM, amount: event.amount, target: {type: GROUP, id: group.id}}
      - {type: COUNTER, key: purchases, value: 1, target: {type: GROUP, id: group.id}}
  - name: redeem
    condition: event.type == "redeem" && group != null && group.balances.FAM.available >= event.miles
    actions:
      - {type: DEBIT, asset_id: FAM, amount: event.miles, target: {type: GROUP, id: group.id}}
tests:
"""


def run_group_journey(case: str):
    return run(case, GROUP_JOURNEY)


def test_a_journey_carries_the_group_its_events_name_from_step_to_step():
    found = run_group_journey(
        """  - name: household
    group: {balances: {FAM: 10}}
    steps:
      - at: 2026-01-05T00:00:00Z
        event: {type: purchase, amount: 30, group_id: g1}
        expect: {group: {credits: {FAM: 30}, balances: {FAM: 40}}}
      - {at: 2026-01-06T00:00:00Z, event: {type: purchase, amount: 5}, expect: {matched: []}}
      - {at: 2026-01-20T00:00:00Z, expect: {group: {balances: {FAM: 40}, counters: {purchases: 1}}}}
      - at: 2026-02-02T00:00:00Z
        event: {type: redeem, miles: 40, group_id: g1}
        expect: {matched: [redeem], group: {debits: {FAM: 40}, balances: {FAM: 0}}}
      - {at: 2026-02-03T00:00:00Z, event: {type: redeem, miles: 1, group_id: g1}, expect: {matched: []}}
"""
    )
    assert found == [("household", True, [])]


def test_a_journeys_group_differences_name_the_step():
    found = run_group_journey(
        """  - name: wrong
    group: {id: g1}
    steps:
      - {at: 2026-01-05T00:00:00Z, event: {type: purchase, amount: 30, group_id: g1}}
      - {at: 2026-01-20T00:00:00Z, expect: {group: {credits: {FAM: 30}, balances: {FAM: 20}}}}
"""
    )
    assert found[0][2] == [
        "step 2 (2026-01-20T00:00:00Z): group.credits: a step without an event has no credits",
        "step 2 (2026-01-20T00:00:00Z): group.balances.FAM.available: expected 20, got 30",
    ]


def test_a_step_naming_another_group_than_the_cases_cannot_build_the_state():
    found = run_group_journey(
        """  - name: two
    group: {name: Smiths}
    steps:
      - {at: 2026-01-05T00:00:00Z, event: {type: purchase, amount: 1, group_id: g1}}
      - {at: 2026-01-06T00:00:00Z, event: {type: purchase, amount: 1, group_id: g2}}
"""
    )
    assert found[0][2] == [
        "cannot build the state: group: a step's event names group_id 'g2', the case's group is 'g1'"
    ]


PROMO = """
  - name: promo
    condition: event.type == "promo"
    actions: [{type: SET_TIER, tier: member, level: gold, expires_at: 240h}]
  - name: backdated
    condition: event.type == "backdated"
    actions: [{type: SET_TIER, tier: member, level: gold, expires_at: '"2020-01-01T00:00:00Z"'}]
tests:
"""


def test_a_level_set_with_an_expiry_lapses_then_and_an_expiry_before_the_event_fails_it():
    bundle = BUNDLE.replace("tests:\n", PROMO)
    loaded = load_bundle_text(
        bundle
        + """  - name: ten days of gold
    starts_at: 2026-01-01T00:00:00Z
    steps:
      - {at: 2026-01-05T00:00:00Z, event: {type: promo}, expect: {tiers: {member: gold}}}
      - {at: 2026-01-14T23:59:00Z, expect: {tiers: {member: gold}}}
      - {at: 2026-01-15T00:00:00Z, expect: {tiers: {member: null}}}
  - name: backdated
    event: {type: backdated}
    expect: {status: FAILED, error_code: invalid_expiry}
"""
    )
    assert loaded.ok, loaded.problems
    results = run_test_cases(loaded)
    assert [(r.name, r.passed, r.diff) for r in results] == [("ten days of gold", True, []), ("backdated", True, [])]
    (action,) = [a for a in run_test_cases(loaded)[0].result.actions if a.type == "SET_TIER"]
    assert action.expires_at is not None and action.expires_at.isoformat() == "2026-01-15T00:00:00+00:00"
