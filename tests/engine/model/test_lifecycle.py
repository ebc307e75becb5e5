"""The lifecycle block: each field alone (msgspec) and the fields together (`lifecycle_problems`)."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from engine.model.lifecycle import Lifecycle, lifecycle_problems

LEVELS = ["base", "silver", "gold"]


def lifecycle(data: dict) -> Lifecycle:
    return msgspec.convert(data, Lifecycle)


def found(data: dict) -> list[tuple[tuple, str]]:
    return [(problem.path, problem.code) for problem in lifecycle_problems(lifecycle(data), LEVELS)]


YEARLY = {"retention": {"mode": "PERIOD_BASED"}, "qualification_period": {"type": "CALENDAR_YEAR"}}


@pytest.mark.parametrize(
    "data",
    [
        {},
        YEARLY,
        {
            "retention": {"mode": "PERIOD_BASED"},
            "qualification_period": {"type": "FIXED_YEAR", "start_month": 4, "start_day": 6},
            "status_validity": {"extend_months": 3},
            "downgrade_policy": {"mode": "DROP_ONE", "grace_days": 30, "min_level": "silver"},
            "counters": {"qualifying": ["miles", "segments"], "rollover": "EXCESS"},
        },
        {"retention": {"mode": "ACTIVITY_REFRESH", "duration": "8760h"}, "downgrade_policy": {"mode": "DROP_ONE"}},
        {"qualification_period": {"type": "NONE"}},
    ],
)
def test_consistent_lifecycles_have_no_problem(data):
    assert found(data) == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"retention": {"mode": "PERIOD_BASED"}}, [(("retention", "mode"), "lifecycle_conflict")]),
        (
            {**YEARLY, "retention": {"mode": "PERIOD_BASED", "duration": "1h"}},
            [(("retention", "duration"), "lifecycle_conflict")],
        ),
        ({"retention": {"mode": "ACTIVITY_REFRESH"}}, [(("retention",), "missing_field")]),
        (
            {"retention": {"mode": "ACTIVITY_REFRESH", "duration": "soon"}},
            [(("retention", "duration"), "invalid_duration")],
        ),
        (
            {"retention": {"mode": "ACTIVITY_REFRESH", "duration": "0s"}},
            [(("retention", "duration"), "invalid_duration")],
        ),
        ({"qualification_period": {"type": "FIXED_YEAR"}}, [(("qualification_period",), "missing_field")]),
        (
            {"qualification_period": {"type": "CALENDAR_YEAR", "start_month": 3}},
            [(("qualification_period", "start_month"), "lifecycle_conflict")],
        ),
        (
            {"qualification_period": {"type": "FIXED_YEAR", "start_month": 2, "start_day": 29}},
            [(("qualification_period", "start_day"), "invalid_value")],
        ),
        (
            {"qualification_period": {"type": "FIXED_YEAR", "start_month": 4, "start_day": 31}},
            [(("qualification_period", "start_day"), "invalid_value")],
        ),
        ({"status_validity": {"extend_months": 2}}, [(("status_validity", "extend_months"), "lifecycle_conflict")]),
        ({"downgrade_policy": {"mode": "HOLD"}}, [(("downgrade_policy",), "lifecycle_conflict")]),
        (
            {"retention": {"mode": "ACTIVITY_REFRESH", "duration": "24h"}, "downgrade_policy": {"mode": "HOLD"}},
            [(("downgrade_policy", "mode"), "lifecycle_conflict")],
        ),
        (
            {**YEARLY, "downgrade_policy": {"min_level": "silvr"}},
            [(("downgrade_policy", "min_level"), "unknown_tier_level")],
        ),
        (
            {**YEARLY, "counters": {"qualifying": ["miles", "miles"]}},
            [(("counters", "qualifying", 1), "invalid_value")],
        ),
        ({"counters": {"qualifying": ["miles"]}}, [(("counters", "qualifying"), "lifecycle_conflict")]),
        ({**YEARLY, "counters": {"rollover": "EXCESS"}}, [(("counters", "rollover"), "lifecycle_conflict")]),
    ],
)
def test_contradictions_are_reported_at_the_field_they_are_about(data, expected):
    assert found(data) == expected


def test_a_misspelt_level_gets_a_suggestion():
    (problem,) = lifecycle_problems(lifecycle({**YEARLY, "downgrade_policy": {"min_level": "silvr"}}), LEVELS)
    assert problem.message == "min_level 'silvr' is not a level of this tier; did you mean 'silver'?"


@pytest.mark.parametrize(
    "data",
    [
        {"retention": {"mode": "SOMETIMES"}},
        {"retension": {"mode": "PERIOD_BASED"}},
        {"qualification_period": {"type": "FIXED_YEAR", "start_month": 13, "start_day": 1}},
        {"status_validity": {"extend_months": -1}},
        {"downgrade_policy": {"grace_days": 100000}},
        {"downgrade_policy": {"min_level": "Gold"}},
        {"counters": {"qualifying": [""]}},
        {"counters": {"rollover": "ALL"}},
    ],
)
def test_each_field_is_checked_alone(data):
    with pytest.raises(msgspec.ValidationError):
        lifecycle(data)


def test_defaults_and_what_the_fields_mean_together():
    empty = Lifecycle()
    assert (empty.mode, empty.has_periods, empty.policy.mode, empty.extend_months, empty.rollover) == (
        None,
        False,
        "DROP_TO_QUALIFYING",
        0,
        "NONE",
    )
    assert msgspec.to_builtins(empty) == {}
    refresh = lifecycle(
        {"retention": {"mode": "ACTIVITY_REFRESH", "duration": "48h"}, "downgrade_policy": {"grace_days": 3}}
    )
    assert refresh.inactivity == timedelta(days=5)
    assert lifecycle(YEARLY).inactivity is None
