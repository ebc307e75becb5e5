from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dsl.values import Optional, UInt
from engine.model.result import TraceStep
from playground.trace import VALUE_CHARS_MAX, format_value, trace_rows


def test_rows_are_nested_by_source_span():
    # event.amount > 100.0 && 'vip' in participant.tags
    steps = [
        TraceStep(start=0, end=12, text="event.amount", value=250.0),
        TraceStep(start=15, end=20, text="100.0", value=100.0),
        TraceStep(start=0, end=20, text="event.amount > 100.0", value=True),
        TraceStep(start=24, end=29, text="'vip'", value="vip"),
        TraceStep(start=33, end=50, text="participant.tags", value=["vip"]),
        TraceStep(start=24, end=50, text="'vip' in participant.tags", value=True),
        TraceStep(start=0, end=50, text="event.amount > 100.0 && 'vip' in participant.tags", value=True),
    ]
    rows = trace_rows(steps)
    assert [(r.depth, r.text, r.value) for r in rows] == [
        (0, "event.amount > 100.0 && 'vip' in participant.tags", "true"),
        (1, "event.amount > 100.0", "true"),
        (2, "event.amount", "250.0"),
        (2, "100.0", "100.0"),
        (1, "'vip' in participant.tags", "true"),
        (2, "'vip'", '"vip"'),
        (2, "participant.tags", '["vip"]'),
    ]


def test_error_steps_keep_the_error_and_no_value():
    rows = trace_rows([TraceStep(start=0, end=9, text="event.sku", error="no such key: sku")])
    assert rows[0].error == "no such key: sku" and rows[0].value is None


def test_no_trace_gives_no_rows():
    assert trace_rows(None) == []


def test_values_are_written_in_cel_notation_not_python_repr():
    assert format_value(None) == "null"
    assert format_value(False) == "false"
    assert format_value(UInt(7)) == "7u"
    assert format_value(3) == "3"
    assert format_value(Decimal("1.50")) == "1.50"
    assert format_value("it's") == '"it\'s"'
    assert format_value(b"ab") == 'b"ab"'
    assert format_value({"k": [1.0, None]}) == '{"k": [1.0, null]}'
    assert format_value(datetime(2026, 1, 1, tzinfo=UTC)) == 'timestamp("2026-01-01T00:00:00Z")'
    assert format_value(timedelta(hours=1)) == 'duration("3600s")'
    assert format_value(Optional.of(1)) == "optional.of(1)"
    assert format_value(Optional.none()) == "optional.none()"


def test_long_values_are_cut_for_display():
    text = format_value("x" * 1000)
    assert len(text) == VALUE_CHARS_MAX and text.endswith("…")
