from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.values import Optional, UInt
from engine.evaluator.evaluate import evaluate_event, trace_value
from engine.model.result import RuleStatus
from engine.model.state import Balance, CounterState, EntityState, EvaluationInput, GroupState, TierState
from engine.rules.program import compile_program
from tests.engine.evaluator.support import T0, bundle, event, person, rule


def statuses(result):
    return [(outcome.rule, outcome.status) for outcome in result.rules]


def test_statuses_of_every_kind():
    program = bundle(
        rule("early", "true", active_from=T0 + timedelta(days=1)),
        rule("expired", "true", active_to=T0),
        rule("error", "event.missing > 1.0"),
        rule("not_bool", "event.amount"),
        rule("nested", "[1, 2, 3].all(x, [1,2,3,4,5,6,7,8,9,10].all(y, y * x < 1000))", order=45),
        rule("no", "event.amount > 100.0"),
        rule("yes", "event.amount > 1.0", stop_after_match=True),
        rule("stopped", "true"),
    )
    result = evaluate_event(program, EvaluationInput(event=event({"amount": 12.0}), participant=person()))
    assert statuses(result) == [
        ("early", RuleStatus.OUTSIDE_TIME_WINDOW),
        ("expired", RuleStatus.OUTSIDE_TIME_WINDOW),
        ("error", RuleStatus.SKIPPED_ERROR),
        ("not_bool", RuleStatus.SKIPPED_ERROR),
        ("nested", RuleStatus.MATCHED),
        ("no", RuleStatus.NOT_MATCHED),
        ("yes", RuleStatus.MATCHED),
        ("stopped", RuleStatus.STOPPED),
    ]
    error, not_bool = result.rules[2], result.rules[3]
    assert (error.error_code, not_bool.error_code) == ("DSL_NO_SUCH_KEY", "condition_not_bool")
    assert result.rules[-1].stopped_by == "yes"


def test_cost_budget_overrun_is_skipped_timeout():
    heavy = "event.items.all(x, event.items.all(y, event.items.all(z, x + y + z >= 0.0)))"
    items = {"items": [float(i) for i in range(100)]}
    result = evaluate_event(bundle(rule("heavy", heavy)), EvaluationInput(event=event(items), participant=person()))
    (outcome,) = result.rules
    assert outcome.status == RuleStatus.SKIPPED_TIMEOUT
    assert outcome.error_code.startswith("DSL_LIMIT")


def test_rules_after_the_events_deadline_are_skipped_timeout_unevaluated(monkeypatch):
    import engine.evaluator.evaluate as evaluate_module

    monkeypatch.setattr(evaluate_module, "EVALUATION_TIME_MAX_S", -1.0)  # spent before the first rule
    result = evaluate_event(
        bundle(rule("a"), rule("b", "event.missing > 1.0")), EvaluationInput(event=event(), participant=person())
    )
    assert [(r.status, r.error_code) for r in result.rules] == [(RuleStatus.SKIPPED_TIMEOUT, "DSL_LIMIT_TIME")] * 2
    assert result.status == "COMPLETED" and result.actions == []


def test_a_long_rule_stops_at_the_events_deadline(monkeypatch):
    import engine.evaluator.evaluate as evaluate_module

    # 250,000 steps: the cost budget would stop them after about 10 ms; the event's 3 ms first
    monkeypatch.setattr(evaluate_module, "EVALUATION_TIME_MAX_S", 0.003)
    heavy = "event.items.all(x, event.items.all(y, x + y >= 0.0))"
    items = {"items": [float(i) for i in range(500)]}
    result = evaluate_event(bundle(rule("heavy", heavy)), EvaluationInput(event=event(items), participant=person()))
    assert [(r.status, r.error_code) for r in result.rules] == [(RuleStatus.SKIPPED_TIMEOUT, "DSL_LIMIT_TIME")]


def test_window_uses_received_at_not_the_event_timestamp():
    program = bundle(rule("window", "true", active_from=T0, active_to=T0 + timedelta(hours=1)))
    late_client_clock = event(event_timestamp=T0 - timedelta(days=30), received_at=T0 + timedelta(minutes=5))
    assert statuses(evaluate_event(program, EvaluationInput(event=late_client_clock, participant=person()))) == [
        ("window", RuleStatus.MATCHED)
    ]
    after = event(received_at=T0 + timedelta(hours=1))
    assert statuses(evaluate_event(program, EvaluationInput(event=after, participant=person()))) == [
        ("window", RuleStatus.OUTSIDE_TIME_WINDOW)
    ]


def test_later_rules_see_what_earlier_rules_did():
    program = bundle(
        rule("first", "true", {"type": "TAG", "tag": "Welcomed"}, {"type": "COUNTER", "key": "visits", "value": 1}),
        rule("second", '"welcomed" in participant.tags && participant.counters.visits == 1.0'),
    )
    result = evaluate_event(program, EvaluationInput(event=event(), participant=person()))
    assert statuses(result) == [("first", RuleStatus.MATCHED), ("second", RuleStatus.MATCHED)]


def test_now_is_the_event_timestamp_and_recipient_is_null_without_one():
    program = bundle(rule("now", "now == timestamp('2026-01-01T12:00:00Z') && recipient == null"))
    assert statuses(evaluate_event(program, EvaluationInput(event=event(), participant=person()))) == [
        ("now", RuleStatus.MATCHED)
    ]


def test_a_program_event_sees_no_participant_and_fails_an_action_that_needs_one():
    counted = rule(
        "count", "participant == null", {"type": "COUNTER", "key": "runs", "value": 1, "target": {"type": "PROGRAM"}}
    )
    tagged = rule("tag", "true", {"type": "TAG", "tag": "seen"})
    alone = evaluate_event(bundle(counted), EvaluationInput(event=event(), participant=None))
    assert alone.status == "COMPLETED" and alone.participant is None
    assert alone.program.counters["runs"].value == 1
    failed = evaluate_event(bundle(counted, tagged), EvaluationInput(event=event(), participant=None))
    assert (failed.status, failed.error_code) == ("FAILED", "participant_required")


def test_expired_counters_reset_lazily_with_a_state_change():
    stale = CounterState(value=Decimal(9), reset_after="24h", last_reset_at=T0 - timedelta(days=2))
    program = bundle(rule("fresh", "participant.counters.daily == 0.0"))
    result = evaluate_event(program, EvaluationInput(event=event(), participant=person(counters={"daily": stale})))
    assert statuses(result) == [("fresh", RuleStatus.MATCHED)]
    change = result.state_changes[0]
    assert (change.operation, change.old_value, change.new_value, change.rule) == ("auto_reset", "9", "0", None)
    assert result.participant.counters["daily"].last_reset_at == T0


def test_tiers_auto_qualify_upwards_only_and_not_after_set_tier():
    spend = {"type": "COUNTER", "key": "spend", "value": "event.amount"}
    program = bundle(rule("spend", "true", spend))
    up = evaluate_event(program, EvaluationInput(event=event({"amount": 150.0}), participant=person()))
    assert up.participant.tiers["status"] == TierState(level="silver", rank=1)
    assert up.state_changes[-1].state_type == "tier" and up.state_changes[-1].rule is None
    gold = person(tiers={"status": TierState(level="gold", rank=2)})
    assert (
        evaluate_event(program, EvaluationInput(event=event({"amount": 150.0}), participant=gold))
        .participant.tiers["status"]
        .level
        == "gold"
    )
    pinned = bundle(rule("spend", "true", spend, {"type": "SET_TIER", "tier": "status", "level": "bronze"}))
    assert (
        evaluate_event(pinned, EvaluationInput(event=event({"amount": 5000.0}), participant=person()))
        .participant.tiers["status"]
        .level
        == "bronze"
    )


def test_archived_tiers_do_not_auto_qualify():
    from tests.engine.evaluator.support import TIERS

    spend = {"type": "COUNTER", "key": "spend", "value": "event.amount"}
    program = bundle(rule("spend", "true", spend), tiers=[{**TIERS[0], "status": "ARCHIVED"}])
    silver = person(tiers={"status": TierState(level="silver", rank=1)})
    result = evaluate_event(program, EvaluationInput(event=event({"amount": 5000.0}), participant=silver))
    assert result.participant.counters["spend"].value == Decimal(5000)
    assert result.participant.tiers["status"] == TierState(level="silver", rank=1)  # kept, not moved
    assert all(change.state_type != "tier" for change in result.state_changes)


def test_invalid_event_data_fails_the_event_with_a_code():
    result = evaluate_event(bundle(rule("a")), EvaluationInput(event=event({"when": object()}), participant=person()))
    assert (result.status, result.error_code, result.rules) == ("FAILED", "limit_event_data_type", [])
    not_an_object = evaluate_event(bundle(rule("a")), EvaluationInput(event=event(["a"]), participant=person()))
    assert not_an_object.error_code == "invalid_event_data"
    # JSON allows any number of digits; a number no double holds fails the event (a business
    # failure, at once), where an OverflowError used to be retried as if the machine had failed
    huge = evaluate_event(bundle(rule("a")), EvaluationInput(event=event({"n": [10**400]}), participant=person()))
    assert (huge.status, huge.error_code) == ("FAILED", "invalid_event_data")


def test_an_action_failure_ends_the_rule_list_at_the_failing_rule():
    program = bundle(
        rule("ok", "true"),
        rule("broken", "true", {"type": "DEBIT", "asset_id": "PTS", "amount": 5}),
        rule("never", "true"),
    )
    result = evaluate_event(program, EvaluationInput(event=event(), participant=person()))
    assert statuses(result) == [("ok", RuleStatus.MATCHED), ("broken", RuleStatus.MATCHED)]
    assert result.rules[-1].error_code == "insufficient_funds"
    assert result.error_message.startswith("action DEBIT failed: insufficient AVAILABLE balance")


def test_trace_records_every_sub_expression_and_bypasses_the_index():
    program = compile_program(bundle(rule("p", 'event.type == "purchase" && event.amount > 10.0')))
    plain = evaluate_event(
        program, EvaluationInput(event=event({"type": "refund", "amount": 20.0}), participant=person())
    )
    assert plain.rules[0].trace is None
    traced = evaluate_event(
        program, EvaluationInput(event=event({"type": "refund", "amount": 20.0}), participant=person()), trace=True
    )
    steps = {step.text: step.value for step in traced.rules[0].trace}
    assert steps['event.type == "purchase"'] is False
    assert traced.rules[0].status == RuleStatus.NOT_MATCHED


def test_trace_values_are_plain_json():
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    assert trace_value({2: [UInt(2), moment, timedelta(seconds=90, microseconds=500000)], True: Optional.of(1)}) == {
        "2": [2, "2026-01-01T00:00:00Z", "90.5s"],
        "true": 1,
    }
    assert trace_value(Optional.none()) is None


def test_the_same_inputs_give_the_same_bytes():
    program = bundle(
        rule(
            "a",
            "true",
            {"type": "CREDIT", "asset_id": "USD", "amount": "event.amount * 1.1"},
            {"type": "COUNTER", "key": "spend", "value": "event.amount"},
            {"type": "TAG", "tag": "Buyer"},
        ),
        rule("b", 'event.type == "purchase"', {"type": "SET_ATTRIBUTE", "key": "last", "value": "purchase"}),
    )
    inputs = EvaluationInput(event=event({"type": "purchase", "amount": 19.5}), participant=person(tags=["z", "A"]))
    first = msgspec.json.encode(evaluate_event(program, inputs))
    second = msgspec.json.encode(evaluate_event(compile_program(program), inputs))
    assert first == second


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["purchase", "refund", "signup", 7, True, None]),
    amount=st.one_of(st.floats(min_value=-10, max_value=500, allow_nan=False), st.none()),
)
def test_the_index_never_changes_an_outcome(kind, amount):
    program = compile_program(
        bundle(
            rule("purchase", 'event.type == "purchase" && event.amount > 10.0'),
            rule("refund", 'event.type == "refund"'),
            rule("seven", "event.type == 7"),
            rule("flag", "event.type == true && event.amount < 0.0"),
            rule("big", "event.amount > 100.0"),
        )
    )
    data = {"type": kind} if amount is None else {"type": kind, "amount": amount}
    indexed = evaluate_event(program, EvaluationInput(event=event(data), participant=person()))
    full = evaluate_event(program, EvaluationInput(event=event(data), participant=person()), trace=True)
    assert statuses(indexed) == statuses(full)


def test_a_bundle_is_compiled_on_the_fly_and_naive_times_are_utc():
    naive = event(event_timestamp=datetime(2026, 1, 1, 12), received_at=datetime(2026, 1, 1, 12))
    result = evaluate_event(bundle(rule("a")), EvaluationInput(event=naive, participant=EntityState()))
    assert result.evaluated_at == T0 and result.status == "COMPLETED"


def test_result_snapshot(snapshot_json):
    program = bundle(
        rule(
            "purchase",
            'event.type == "purchase"',
            {"type": "CREDIT", "asset_id": "USD", "amount": "round(event.amount * 0.05, 2)"},
            {"type": "COUNTER", "key": "spend", "value": "event.amount", "reset_after": "720h"},
            order=10,
        ),
        rule(
            "vip",
            '"vip" in participant.tags',
            {"type": "CREDIT", "asset_id": "PTS", "amount": 100},
            budgets=[{"asset_id": "PTS", "limit": "150"}],
            order=20,
        ),
        rule("refund", 'event.type == "refund"', order=30),
        rule("missing", "event.coupon == 'X'", order=40),
    )
    result = evaluate_event(
        program,
        EvaluationInput(
            event=event({"type": "purchase", "amount": 120.0}), participant=person(tags=["VIP"]), budgets={}
        ),
    )
    assert msgspec.json.decode(msgspec.json.encode(result)) == snapshot_json


def test_group_is_the_group_the_event_names_and_null_without_one():
    program = bundle(
        rule("family", 'group != null && group.attributes.plan == "family" && "pool" in group.tags'),
        rule("trips", "group.counters.trips >= 2.0"),
        rule("alone", "group == null"),
    )
    household = GroupState(
        id="g1",
        name="Smiths",
        tags=["pool"],
        attributes={"plan": "family"},
        counters={"trips": CounterState(value=Decimal(3))},
    )
    named = evaluate_event(program, EvaluationInput(event=event({}), participant=person(), group=household))
    assert statuses(named) == [
        ("family", RuleStatus.MATCHED),
        ("trips", RuleStatus.MATCHED),
        ("alone", RuleStatus.NOT_MATCHED),
    ]
    unnamed = evaluate_event(program, EvaluationInput(event=event({}), participant=person()))
    assert statuses(unnamed) == [
        ("family", RuleStatus.NOT_MATCHED),
        ("trips", RuleStatus.SKIPPED_ERROR),
        ("alone", RuleStatus.MATCHED),
    ]


def _pooling_rules():
    to_group = {"type": "GROUP", "id": "group.id"}
    return bundle(
        rule(
            "pool",
            "group != null",
            {"type": "CREDIT", "asset_id": "PTS", "amount": "10", "target": to_group},
            {"type": "COUNTER", "key": "visits", "value": "1", "target": to_group},
            {"type": "TAG", "tag": "Active", "target": to_group},
            {"type": "SET_ATTRIBUTE", "key": "last", "value": "pool", "target": to_group},
        ),
        rule("second_visit", "group != null && group.counters.visits >= 2.0 && 'active' in group.tags"),
        rule(
            "other_group",
            "true",
            {"type": "CREDIT", "asset_id": "PTS", "amount": "5", "target": {"type": "GROUP", "id": "'g2'"}},
        ),
    )


def test_actions_on_the_named_group_change_its_working_copy_and_later_rules_see_it():
    household = GroupState(id="g1", counters={"visits": CounterState(value=Decimal(1))}, balances={})
    result = evaluate_event(_pooling_rules(), EvaluationInput(event=event({}), participant=person(), group=household))
    assert [status for _, status in statuses(result)] == [RuleStatus.MATCHED] * 3
    after = result.group
    assert (after.tags, after.attributes, after.counters["visits"].value) == (["active"], {"last": "pool"}, 2)
    assert after.balances == {"PTS": Balance(available=Decimal(10))}  # the other group's credit is storage's
    assert household.tags == [] and household.balances == {}  # the caller's state is never changed
    group_changes = [(c.target.type, c.target.id, c.key) for c in result.state_changes if c.target.type == "GROUP"]
    assert group_changes == [("GROUP", "g1", "visits"), ("GROUP", "g1", "active"), ("GROUP", "g1", "last")]
    assert [(a.target.type, a.target.id) for a in result.actions if a.type == "CREDIT"] == [
        ("GROUP", "g1"),
        ("GROUP", "g2"),
    ]


def test_a_group_debit_checks_known_balances_and_leaves_unknown_ones_to_storage():
    redeem = rule(
        "redeem",
        "true",
        {"type": "DEBIT", "asset_id": "PTS", "amount": "30", "target": {"type": "GROUP", "id": "group.id"}},
    )
    program = bundle(redeem)
    known = GroupState(id="g1", balances={"PTS": Balance(available=Decimal(20))})
    refused = evaluate_event(program, EvaluationInput(event=event({}), participant=person(), group=known))
    assert (refused.status, refused.error_code) == ("FAILED", "insufficient_funds")
    assert refused.group == known  # a failed event returns the group as it was given
    unknown = GroupState(id="g1")  # storage's: the ledger checks the funds under the group's lock
    applied = evaluate_event(program, EvaluationInput(event=event({}), participant=person(), group=unknown))
    assert applied.status == "COMPLETED" and applied.group.balances is None


def test_holds_and_releases_move_a_known_group_balance_between_buckets():
    target = {"type": "GROUP", "id": "group.id"}
    program = bundle(
        rule("hold", "true", {"type": "HOLD", "asset_id": "PTS", "amount": "8", "target": target}),
        rule("release", "true", {"type": "RELEASE", "asset_id": "PTS", "amount": "3", "target": target}),
        rule("forfeit", "true", {"type": "FORFEIT", "asset_id": "PTS", "amount": "2", "target": target}),
    )
    group = GroupState(id="g1", balances={"PTS": Balance(available=Decimal(10))})
    result = evaluate_event(program, EvaluationInput(event=event({}), participant=person(), group=group))
    assert result.group.balances == {"PTS": Balance(available=Decimal(3), held=Decimal(5))}


def test_an_archived_group_fails_the_event_as_storage_would():
    archived = GroupState(id="g1", status="ARCHIVED", balances={})
    result = evaluate_event(_pooling_rules(), EvaluationInput(event=event({}), participant=person(), group=archived))
    assert (result.status, result.error_code) == ("FAILED", "group_archived")


def test_a_group_counter_past_its_reset_starts_again_at_zero():
    stale = CounterState(value=Decimal(5), reset_after="24h", last_reset_at=T0 - timedelta(days=2))
    group = GroupState(id="g1", counters={"visits": stale}, balances={})
    result = evaluate_event(_pooling_rules(), EvaluationInput(event=event({}), participant=person(), group=group))
    assert result.group.counters["visits"].value == 1
    assert statuses(result)[1] == ("second_visit", RuleStatus.NOT_MATCHED)


def test_a_later_rule_sees_the_groups_balances_after_an_earlier_credit():
    target = {"type": "GROUP", "id": "group.id"}
    program = bundle(
        rule("pool", "true", {"type": "CREDIT", "asset_id": "PTS", "amount": "15", "target": target}),
        rule(
            "milestone", "group.balances.PTS.available >= 20.0", {"type": "TAG", "tag": "milestone", "target": target}
        ),
        rule("no_held", "group.balances.PTS.held == 0.0"),
    )
    group = GroupState(id="g1", balances={"PTS": Balance(available=Decimal(10))})
    result = evaluate_event(program, EvaluationInput(event=event({}), participant=person(), group=group))
    assert [status for _, status in statuses(result)] == [RuleStatus.MATCHED] * 3
    assert result.group.tags == ["milestone"] and result.group.balances["PTS"].available == Decimal(25)
    before = evaluate_event(
        bundle(rule("milestone", "group.balances.PTS.available >= 20.0")),
        EvaluationInput(event=event({}), participant=person(), group=group),
    )
    assert statuses(before) == [("milestone", RuleStatus.NOT_MATCHED)]  # what the event found: 10


def test_group_balances_are_an_empty_map_when_the_caller_does_not_know_them():
    program = bundle(rule("none", "size(group.balances) == 0"))
    result = evaluate_event(program, EvaluationInput(event=event({}), participant=person(), group=GroupState(id="g1")))
    assert statuses(result) == [("none", RuleStatus.MATCHED)]
