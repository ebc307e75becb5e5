"""playground.automations: each automation's next firings on its zone's clock."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.rules.loader import load_bundle_text
from playground.automations import next_firings
from tests.conftest import ROOT

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


def test_the_example_s_automations_with_their_next_firings():
    loaded = load_bundle_text((ROOT / "rules_examples" / "birthday_club.yaml").read_text())
    rows = {row.name: row for row in next_firings(loaded, NOW)}
    assert list(rows) == ["birthday_bonus", "double_points_day_starts", "double_points_day_ends"]
    assert rows["birthday_bonus"].note == "fires on each participant's own schedule: see automation_tests"
    starts = rows["double_points_day_starts"]
    assert (starts.trigger, starts.scope, starts.timezone) == ("cron 0 0 1 * *", "participants", "Europe/London")
    assert [(f.utc, f.local) for f in starts.times[:2]] == [
        ("2026-03-31T23:00:00Z", "2026-04-01 00:00 BST"),
        ("2026-04-30T23:00:00Z", "2026-05-01 00:00 BST"),
    ]
    assert len(starts.times) == 5


def test_one_time_immediate_and_past_triggers():
    loaded = load_bundle_text(
        "program: {key: demo, name: Demo}\n"
        "automations:\n"
        "  - {name: soon, event_name: x, scope: program, trigger: {type: one_time, trigger_at: 2026-04-01T09:00:00Z}}\n"
        "  - {name: past, event_name: x, scope: program, trigger: {type: one_time, trigger_at: 2026-01-01T09:00:00Z}}\n"
        "  - {name: now, event_name: x, scope: participants, trigger: {type: immediate}}\n"
    )
    rows = {row.name: row for row in next_firings(loaded, NOW)}
    assert [(f.utc, f.local) for f in rows["soon"].times] == [("2026-04-01T09:00:00Z", "2026-04-01 09:00 UTC")]
    assert rows["past"].times == [] and rows["past"].note == "no firing ahead"
    assert rows["now"].note == "fires once, when it is created"


def test_a_bundle_that_does_not_load_has_no_rows():
    assert next_firings(load_bundle_text("program: ["), NOW) == []
