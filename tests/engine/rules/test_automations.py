"""engine.rules.automations: triggers against scopes, schedules, cron, zones and CEL, checked."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from engine.model.automation import AttributeDateConfig, AutomationSpec
from engine.rules.automations import AutomationError, compile_automation, compile_automations, require_automation
from engine.rules.loader import load_bundle_text


def spec(**fields) -> AutomationSpec:
    base = {
        "name": "a",
        "event_name": "tick",
        "scope": "program",
        "trigger": {"type": "cron", "cron_expression": "0 0 * * *"},
    }
    return msgspec.convert(base | fields, AutomationSpec)


def codes(automation: AutomationSpec, zone: str = "UTC") -> list[tuple[str, str]]:
    _, problems = compile_automation(automation, zone)
    return [(".".join(map(str, p.path)), p.code) for p in problems]


def test_a_valid_automation_compiles_with_its_zone_and_schedule():
    compiled, problems = compile_automation(
        spec(
            scope="participants",
            trigger={
                "type": "participant_state",
                "schedule_type": "ATTRIBUTE_DATE",
                "schedule_config": {"attribute": "birthday", "time": "09:00"},
            },
            participant_filter="has(participant.attributes.birthday)",
            guard_condition="participant.status == 'ACTIVE' && now > timestamp('2020-01-01T00:00:00Z')",
        ),
        "Europe/London",
    )
    assert problems == []
    assert compiled.timezone == "Europe/London"
    assert compiled.schedule == AttributeDateConfig(attribute="birthday", time="09:00")
    assert compiled.participant_filter.source == "has(participant.attributes.birthday)"


@pytest.mark.parametrize(
    ("trigger", "scope"),
    [
        ({"type": "cron", "cron_expression": "0 0 * * *"}, "program"),
        ({"type": "cron", "cron_expression": "0 0 * * *"}, "participants"),
        ({"type": "one_time", "trigger_at": "2026-06-01T00:00:00Z"}, "program"),
        ({"type": "one_time", "trigger_at": "2026-06-01T00:00:00Z"}, "participants"),
        ({"type": "immediate"}, "participants"),
        (
            {"type": "participant_state", "schedule_type": "INTERVAL", "schedule_config": {"interval": "24h"}},
            "participants",
        ),
    ],
)
def test_the_valid_trigger_and_scope_pairs(trigger, scope):
    assert codes(spec(trigger=trigger, scope=scope)) == []


@pytest.mark.parametrize(
    "trigger",
    [
        {"type": "immediate"},
        {"type": "participant_state", "schedule_type": "INTERVAL", "schedule_config": {"interval": "24h"}},
    ],
)
def test_immediate_and_participant_state_need_the_participants_scope(trigger):
    assert codes(spec(trigger=trigger, scope="program")) == [("scope", "invalid_scope")]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"trigger": {"type": "cron"}}, [("trigger", "missing_field")]),
        ({"trigger": {"type": "cron", "cron_expression": "0 0 * *"}}, [("trigger.cron_expression", "invalid_cron")]),
        (
            {"trigger": {"type": "cron", "cron_expression": "CRON_TZ=UTC 0 0 * * *"}},
            [("trigger.cron_expression", "invalid_cron")],
        ),
        (
            {"trigger": {"type": "cron", "cron_expression": "0 0 * * *", "timezone": "Mars/Olympus"}},
            [("trigger.timezone", "unknown_timezone")],
        ),
        ({"trigger": {"type": "one_time"}}, [("trigger", "missing_field")]),
        (
            {"trigger": {"type": "one_time", "trigger_at": "2026-06-01T00:00:00Z", "cron_expression": "0 0 * * *"}},
            [("trigger.cron_expression", "unexpected_field")],
        ),
        ({"participant_filter": "true"}, [("participant_filter", "invalid_scope")]),
        ({"filter_hints": [{"type": "has_tag", "key": "vip"}]}, [("filter_hints", "invalid_scope")]),
        ({"guard_condition": "participant.status == 'ACTIVE'"}, [("guard_condition", "DSL_UNKNOWN_NAME")]),
        ({"guard_condition": "program.countrs.size() > 0"}, [("guard_condition", "DSL_UNKNOWN_FIELD")]),
        ({"guard_condition": "now >"}, [("guard_condition", "DSL_SYNTAX")]),
        (
            {"payload": {"deep": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}},
            [("payload", "limit_event_data_depth")],
        ),
    ],
)
def test_problems_name_the_field(fields, expected):
    assert codes(spec(**fields)) == expected


@pytest.mark.parametrize(
    ("schedule_type", "config", "expected"),
    [
        ("ATTRIBUTE_DATE", {"attribute": "b", "tme": "09:00"}, ("trigger.schedule_config.tme", "did you mean 'time'")),
        ("ATTRIBUTE_DATE", {"attribute": "b", "time": "25:00"}, ("trigger.schedule_config.time", "hh:mm")),
        ("ATTRIBUTE_DATE", {}, ("trigger.schedule_config", "missing required field `attribute`")),
        ("INTERVAL", {"interval": "-24h"}, ("trigger.schedule_config.interval", "positive")),
        ("INTERVAL", {"interval": "a month"}, ("trigger.schedule_config.interval", "duration")),
        ("CRON", {"cron_expression": "0 0 31 2 *"}, ("trigger.schedule_config.cron_expression", "day-of-month")),
        ("THRESHOLD", {"counter": "visits", "threshold": "ten"}, ("trigger.schedule_config.threshold", "expected")),
    ],
)
def test_schedule_configs_are_read_by_their_schedule_type(schedule_type, config, expected):
    trigger = {"type": "participant_state", "schedule_type": schedule_type, "schedule_config": config}
    _, problems = compile_automation(spec(scope="participants", trigger=trigger))
    assert len(problems) == 1
    path, says = expected
    assert ".".join(map(str, problems[0].path)) == path
    assert says in str(problems[0].error).lower()


def test_participant_state_needs_its_schedule():
    trigger = {"type": "participant_state", "schedule_type": "INTERVAL"}
    assert codes(spec(scope="participants", trigger=trigger)) == [("trigger", "missing_field")]


def test_names_are_unique_and_paths_carry_the_index():
    _, problems = compile_automations([spec(), spec(trigger={"type": "cron", "cron_expression": "x"})])
    assert [(p.path, p.code) for p in problems] == [
        (("automations", 1, "name"), "duplicate_name"),
        (("automations", 1, "trigger", "cron_expression"), "invalid_cron"),
    ]


def test_require_automation_raises_with_every_problem():
    with pytest.raises(AutomationError) as raised:
        require_automation(
            spec(scope="participants", trigger={"type": "cron", "cron_expression": "x"}, guard_condition="nope")
        )
    assert raised.value.code == "invalid_automation"
    assert [p.code for p in raised.value.problems] == ["invalid_cron", "DSL_UNKNOWN_NAME"]


def test_accrual_check_places_automation_problems_at_file_line_column():
    text = (
        "program: {key: demo, name: Demo}\n"
        "automations:\n"
        "  - name: nudge\n"
        "    event_name: nudge\n"
        "    scope: participants\n"
        "    trigger: {type: cron, cron_expression: '0 9 * * MON'}\n"
        "    guard_condition: \"'lapsed' in participant.tgs\"\n"
        "automation_tests:\n"
        "  - {name: t, automation: nudg, at: 2026-01-05T09:00:00Z}\n"
    )
    loaded = load_bundle_text(text, filename="b.yaml")
    assert [(p.code, p.line, p.column) for p in loaded.problems] == [
        ("DSL_UNKNOWN_FIELD", 7, 47),
        ("unknown_automation", 9, 27),
    ]
    assert "did you mean 'nudge'" in loaded.problems[1].message
    assert loaded.program is None


def test_trigger_at_in_a_file_is_an_aware_time():
    text = (
        "program: {key: demo, name: Demo}\n"
        "automations:\n"
        "  - name: launch\n"
        "    event_name: launch\n"
        "    scope: program\n"
        "    trigger: {type: one_time, trigger_at: 2026-06-01T09:00:00+02:00}\n"
    )
    loaded = load_bundle_text(text)
    assert loaded.ok, loaded.problems
    assert loaded.bundle.automations[0].trigger.trigger_at == datetime(2026, 6, 1, 7, tzinfo=UTC)


@pytest.mark.parametrize("written", ["2026-06-01T09:00:00", "1780304400", "2026-06-01"])
def test_trigger_at_in_a_file_without_an_offset_or_as_a_number_is_refused_at_its_place(written):
    text = (
        "program: {key: demo, name: Demo}\n"
        "automations:\n"
        "  - name: launch\n"
        "    event_name: launch\n"
        "    scope: program\n"
        f"    trigger: {{type: one_time, trigger_at: {written}}}\n"
    )
    (problem,) = load_bundle_text(text, "f.yaml").problems
    assert (problem.line, problem.column) == (6, 43)
    assert "RFC 3339 timestamp with an offset" in problem.message
