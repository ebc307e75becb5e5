from datetime import UTC, datetime

import pytest

from playground.inputs import PANE_CHARS_MAX, PaneError, locate, parse_event, parse_participant


def test_event_pane_reads_timestamp_and_data():
    event = parse_event('{"event_timestamp": "2026-03-01T09:30:00+01:00", "event_data": {"amount": 12.5}}')
    assert event.event_timestamp == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert event.event_data == {"amount": 12.5}
    assert event.received_at is None


def test_malformed_json_points_at_line_and_column():
    with pytest.raises(PaneError) as caught:
        parse_event('{\n  "event_timestamp": "2026-01-01T00:00:00Z",\n  "event_data": {,}\n}')
    problem = caught.value.problem
    assert (problem.pane, problem.code, problem.line, problem.column) == ("event", "playground_json", 3, 18)


def test_event_without_time_zone_is_rejected_at_its_field():
    with pytest.raises(PaneError) as caught:
        parse_event('{"event_data": {},\n "event_timestamp": "2026-01-01T00:00:00"}')
    problem = caught.value.problem
    assert problem.code == "playground_invalid"
    assert "event_timestamp" in problem.message
    assert (problem.line, problem.column) == (2, 21)


def test_event_unknown_field_points_at_the_key():
    with pytest.raises(PaneError) as caught:
        parse_event('{"event_timestamp": "2026-01-01T00:00:00Z",\n  "evnt_data": {}}')
    assert (caught.value.problem.line, caught.value.problem.column) == (2, 3)


def test_event_must_be_an_object():
    with pytest.raises(PaneError) as caught:
        parse_event("[1, 2]")
    assert caught.value.problem.code == "playground_invalid"


def test_oversized_pane_is_refused_before_parsing():
    with pytest.raises(PaneError) as caught:
        parse_participant("#" * (PANE_CHARS_MAX + 1))
    assert caught.value.problem.code == "playground_too_large"


def test_participant_pane_reads_yaml_and_json():
    state = parse_participant("tags: [vip]\ncounters:\n  visits: 3\nbalances:\n  POINTS: '10.50'\n").participant
    assert state.tags == ["vip"]
    assert state.counters == {"visits": 3}
    assert state.balances == {"POINTS": "10.50"}
    assert parse_participant('{"attributes": {"city": "Oslo"}}').participant.attributes == {"city": "Oslo"}


def test_empty_participant_is_a_new_participant():
    states = parse_participant("")
    assert states.participant.tags == [] and states.participant.status == "ACTIVE"
    assert states.recipient is None and states.program.wallet == {}


def test_full_form_carries_recipient_and_program_state():
    states = parse_participant(
        "participant: {tags: [new]}\nrecipient: {external_id: ref-1}\nprogram:\n  wallet: {CASH: 100}\n"
    )
    assert states.participant.tags == ["new"]
    assert states.recipient.external_id == "ref-1"
    assert states.program.wallet == {"CASH": 100}


def test_full_form_errors_point_into_it():
    with pytest.raises(PaneError) as caught:
        parse_participant("participant: {tags: [new]}\nprogram:\n  wallet: {CASH: [1]}\n")
    assert caught.value.problem.line == 3


def test_participant_yaml_error_has_its_position():
    with pytest.raises(PaneError) as caught:
        parse_participant("tags: [vip\ncounters: {}\n")
    problem = caught.value.problem
    assert (problem.pane, problem.code) == ("participant", "yaml_syntax")
    assert problem.line == 2


def test_participant_wrong_type_points_at_the_value():
    with pytest.raises(PaneError) as caught:
        parse_participant("tags: [vip]\nstatus: GONE\n")
    problem = caught.value.problem
    assert (problem.line, problem.column) == (2, 9)


def test_locate_walks_lists_and_falls_back_to_the_start():
    text = "tags:\n  - a\n  - 3\n"
    assert locate(text, "Expected `str`, got `int` - at `$.tags[1]`") == (3, 5)
    assert locate(text, "no path here") == (1, 1)
    assert locate("{unclosed", "Expected - at `$.a`") == (1, 1)


def test_participant_yaml_is_read_as_bundle_files_are():
    # YAML 1.2 scalars: `no` is a tag, not False (it would fail as a non-string tag otherwise)
    assert parse_participant("tags: [no, on]\n").participant.tags == ["no", "on"]
    with pytest.raises(PaneError) as caught:
        parse_participant("tags: [a]\ntags: [b]\n")
    assert caught.value.problem.code == "duplicate_key"


def test_deeply_nested_event_json_is_a_problem_not_a_crash():
    with pytest.raises(PaneError) as caught:
        parse_event("[" * 200_000 + "]" * 200_000)
    assert caught.value.problem.code == "playground_json"


def test_bare_event_data_is_read_as_event_data_with_a_notice():
    from playground.inputs import read_event, wrap_event

    event, notice = read_event('{"type": "purchase", "amount": 12.5}')
    assert event.event_data == {"type": "purchase", "amount": 12.5}
    assert event.event_timestamp.isoformat() == "2026-01-01T12:00:00+00:00"
    assert notice is not None and notice.severity == "notice" and notice.code == "playground_bare_event"
    assert read_event('{"event_timestamp": "2026-01-01T00:00:00Z", "event_data": {}}')[1] is None
    assert '"event_data": {\n    "type": "purchase"' in wrap_event('{"type": "purchase"}')
