"""engine.model.cron: five-field cron expressions read in a time zone, DST as Debian cron."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.model.cron import CronError, check_cron, cron_problem, fires_between, next_fire


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_next_fire_is_strictly_after_the_given_time():
    assert next_fire("0 0 * * *", at(2026, 1, 1)) == at(2026, 1, 2)
    assert next_fire("0 0 * * *", at(2026, 1, 1, 0, 0, 0)) == at(2026, 1, 2)
    assert next_fire("*/15 * * * *", at(2026, 1, 1, 10, 7, 30)) == at(2026, 1, 1, 10, 15)


def test_fields_are_read_on_the_zone_s_wall_clock():
    # 09:00 in London is 09:00 UTC in winter and 08:00 UTC in summer
    assert next_fire("0 9 * * *", at(2026, 1, 10), "Europe/London") == at(2026, 1, 10, 9)
    assert next_fire("0 9 * * *", at(2026, 7, 10), "Europe/London") == at(2026, 7, 10, 8)
    assert next_fire("0 9 * * *", at(2026, 7, 10), "America/New_York") == at(2026, 7, 10, 13)


def test_a_time_skipped_by_spring_forward_fires_at_the_end_of_the_gap():
    # London, 29 March 2026: 01:00 GMT becomes 02:00 BST; 01:30 does not exist that night
    fired = fires_between("30 1 * * *", at(2026, 3, 27), at(2026, 3, 31), "Europe/London")
    assert fired == [at(2026, 3, 27, 1, 30), at(2026, 3, 28, 1, 30), at(2026, 3, 29, 1), at(2026, 3, 30, 0, 30)]


def test_a_time_repeated_by_fall_back_fires_once():
    # London, 25 October 2026: 02:00 BST becomes 01:00 GMT; 01:30 happens twice, fires at the first
    fired = fires_between("30 1 * * *", at(2026, 10, 24), at(2026, 10, 27), "Europe/London")
    assert fired == [at(2026, 10, 24, 0, 30), at(2026, 10, 25, 0, 30), at(2026, 10, 26, 1, 30)]


def test_every_thirty_minutes_follows_the_instants_across_fall_back():
    fired = fires_between("*/30 * * * *", at(2026, 10, 25, 0), at(2026, 10, 25, 2), "Europe/London")
    assert fired == [at(2026, 10, 25, 0, 30), at(2026, 10, 25, 1), at(2026, 10, 25, 1, 30), at(2026, 10, 25, 2)]


def test_far_and_rare_firings_are_found_without_scanning():
    assert next_fire("0 0 29 2 *", at(2026, 3, 1)) == at(2028, 2, 29)
    assert next_fire("0 0 * * 5L", at(2026, 1, 1)) == at(2026, 1, 30)  # the last Friday of the month


def test_fires_between_is_bounded():
    assert len(fires_between("* * * * *", at(2026, 1, 1), at(2026, 2, 1), limit=7)) == 7
    assert fires_between("0 0 1 1 *", at(2026, 1, 1), at(2026, 6, 1)) == []


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("", "empty"),
        ("0 9 * *", "has 4 fields"),
        ("0 0 9 * * *", "has 6 fields"),
        ("CRON_TZ=Europe/London 0 9 * * *", "not as a CRON_TZ= or TZ= prefix"),
        ("TZ=UTC 0 9 * * *", "not as a CRON_TZ= or TZ= prefix"),
        ("@daily", "aliases"),
        ("61 * * * *", "bad minute"),
        ("0 0 30 2 *", "bad day-of-month"),
        ("0 0 * * 8", "bad day-of-week"),
        ("*/0 * * * *", "bad minute"),
        ("x" * 101, "longer than 100"),
    ],
)
def test_unusable_expressions_say_why(expression, says):
    problem = cron_problem(expression)
    assert problem is not None and says in problem
    with pytest.raises(CronError) as raised:
        check_cron(expression)
    assert raised.value.code == "invalid_cron"


def test_names_and_spaces_are_accepted():
    assert cron_problem("0 9 1 JAN MON-FRI") is None
    assert check_cron("  0 9 * * *  ") == "0 9 * * *"
