from datetime import timedelta

import pytest

from engine.model.durations import DurationError, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", timedelta(hours=24)),
        ("720h", timedelta(days=30)),
        ("1h30m", timedelta(minutes=90)),
        ("1.5h", timedelta(minutes=90)),
        (".5s", timedelta(milliseconds=500)),
        ("300ms", timedelta(milliseconds=300)),
        ("2us", timedelta(microseconds=2)),
        ("2µs", timedelta(microseconds=2)),
        ("1500ns", timedelta(microseconds=1)),
        ("0", timedelta(0)),
        ("-1m", timedelta(minutes=-1)),
        ("+10s", timedelta(seconds=10)),
    ],
)
def test_go_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "h", "10", "1d", "1h 30m", "abc", "-", "1e3s", "9" * 80 + "h", None, 5])
def test_invalid_durations_have_a_stable_code(text):
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert caught.value.code == "invalid_duration"


def test_durations_beyond_go_range_are_rejected():
    with pytest.raises(DurationError):
        parse_duration("3000000h")
