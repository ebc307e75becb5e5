"""Values in CEL's notation: what the playground and the language server show reads back as the
same value when pasted into a rule."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from dsl.expression import compile_expression
from dsl.notation import cel_literal, cel_string
from dsl.values import CelType, Optional, UInt


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (7, "7"),
        (-3, "-3"),
        (UInt(3), "3u"),
        (12.5, "12.5"),
        (2.0, "2.0"),
        (1e20, "1e+20"),
        ("purchase", '"purchase"'),
        ('it\'s "x"\n', '"it\'s \\"x\\"\\n"'),
        (b'a\xff"', 'b"a\\xff\\""'),
        ([1, "a", None], '[1, "a", null]'),
        ({"type": "purchase"}, '{"type": "purchase"}'),
        (datetime(2026, 1, 1, tzinfo=UTC), 'timestamp("2026-01-01T00:00:00Z")'),
        (timedelta(seconds=90, microseconds=500_000), 'duration("90.5s")'),
        (Optional.of(2.0), "optional.of(2.0)"),
        (Optional.none(), "optional.none()"),
        (CelType("int"), "int"),
        (Decimal("10.50"), "10.50"),
    ],
)
def test_values_are_written_as_cel_literals(value, text):
    assert cel_literal(value) == text


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        -42,
        UInt(18446744073709551615),
        0.1,
        -2.5e-300,
        'tab\tquote" backslash\\ é 🐱',
        b"\x00\x01binary\xfe",
        [1.0, [True, {"k": "v"}]],
        {"type": "purchase", "amount": 12.5, 3: "int key"},
        datetime(2026, 2, 3, 4, 5, 6, 789_000, tzinfo=UTC),
        timedelta(hours=-1, seconds=30),
    ],
)
def test_the_notation_evaluates_back_to_the_same_value(value):
    assert compile_expression(cel_literal(value), variables=[]).evaluate({}) == value


def test_special_doubles_are_the_conversions_that_make_them():
    assert cel_literal(float("inf")) == 'double("Infinity")'
    assert cel_literal(float("-inf")) == 'double("-Infinity")'
    assert math.isnan(compile_expression(cel_literal(float("nan")), variables=[]).evaluate({}))


def test_a_timestamp_outside_cel_range_is_still_shown():
    before_year_one_in_utc = datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert cel_literal(before_year_one_in_utc) == 'timestamp("0001-01-01T00:30:00+01:00")'


def test_strings_are_double_quoted_never_python_repr():
    assert cel_string("purchase") == '"purchase"'
    assert "'" not in cel_literal({"type": "purchase"})
