"""dsl.typecheck: the type-inference pass reports what types prove wrong, with positions, and
stays silent about what it cannot know (dyn)."""

from __future__ import annotations

import pytest

from dsl.expression import compile_expression
from dsl.types import DOUBLE, DYN, INT, STRING, TIMESTAMP, list_of, map_of, object_type

ENV = {
    "event": object_type(
        "event", {"amount": DOUBLE, "type": STRING, "items": list_of(object_type("item", {"qty": DOUBLE}))}
    ),
    "participant": object_type("participant", {"tags": list_of(STRING), "counters": map_of(STRING, DOUBLE)}),
    "now": TIMESTAMP,
    "loose": DYN,
}


def errors(text: str) -> list[tuple[str, int, str | None]]:
    expression = compile_expression(text, variables=set(ENV))
    return [(e.code, e.column, e.suggestion) for e in expression.type_errors(ENV)]


@pytest.mark.parametrize(
    "text",
    [
        "event.amount > 5.0 && event.type == 'purchase'",
        "'vip' in participant.tags || participant.counters.visits >= 2.0",
        "get(participant.counters, 'stamps', 0.0) + 1.0 > event.amount",
        "event.items.exists(i, i.qty > 1.0) && event.items.map(i, i.qty).size() == 2",
        "loose.anything + 1 > loose.other",  # dyn is never reported
        "now.getDayOfWeek('Europe/London') in [0, 6] && now - duration('1h') < now",
        "event.amount == 1 && 2 < event.amount",  # comparisons across int and double are allowed
        "has(event.coupon) ? 1.0 : event.amount",  # has() asks whether a field is there
        "math.least(event.amount, 5.0) * 2.0 > 1.0 && event.type.matches('^p.*$')",
        "cel.bind(x, event.amount, x * 2.0) > 1.0",
    ],
)
def test_well_typed_expressions_have_no_errors(text):
    assert errors(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("event.ammount > 5.0", [("DSL_UNKNOWN_FIELD", 7, "amount")]),
        ("'vip' in participant.tag", [("DSL_UNKNOWN_FIELD", 22, "tags")]),
        ('event.amount > "5"', [("DSL_NO_MATCHING_OVERLOAD", 1, None)]),
        ("event.amount * 10 > 1.0", [("DSL_NO_MATCHING_OVERLOAD", 1, None)]),
        ("now.getDayOfWeek('Europe/Londn') == 6", [("DSL_INVALID_ARGUMENT", 19, "Europe/London")]),
        ("event.type.matches('[') ", [("DSL_INVALID_ARGUMENT", 21, None)]),
        ("duration('1x') > duration('1h')", [("DSL_INVALID_ARGUMENT", 11, None)]),
        ("event.amount && true", [("DSL_NO_MATCHING_OVERLOAD", 1, None)]),
        ("event.type.getHours() == 1", [("DSL_NO_MATCHING_OVERLOAD", 12, None)]),
        ("event.items.exists(i, i.qtty > 1.0)", [("DSL_UNKNOWN_FIELD", 25, "qty")]),
        ("event.amount.value > 1.0", [("DSL_NO_SUCH_FIELD", 1, None)]),
    ],
)
def test_mistakes_are_reported_where_they_are(text, expected):
    assert errors(text) == expected


def test_messages_say_how_to_fix_a_number_written_as_text_or_as_an_int():
    expression = compile_expression('event.amount > "5" && event.amount * 10 > 1.0', variables={"event"})
    messages = [e.message for e in expression.type_errors(ENV)]
    assert messages == [
        "no matching overload for '_>_' applied to (double, string); write 5.0 instead of \"5\"",
        "no matching overload for '_*_' applied to (double, int); write 10.0 instead of 10",
    ]


def test_checking_does_not_change_evaluation():
    expression = compile_expression("event.amount * 10 > 1.0", variables={"event"})
    assert expression.type_errors(ENV)
    with pytest.raises(Exception, match="no matching overload"):
        expression.evaluate({"event": {"amount": 2.0}})
    assert compile_expression("1 + 1", variables=set()).type_errors({}) == [] and INT.known
