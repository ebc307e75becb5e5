"""The function library evaluated through `compile_expression`, as rules use it: the vendored
conformance cases of the string and conversions groups, and the extensions' behaviour (strings,
math, sets, optionals, timestamps) that those cases do not reach."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dsl import DslError, UInt, compile_expression
from tests.dsl.test_conformance import DATA, decode, same  # one case file, one decoder

FUNCTION_GROUPS = ("string", "conversions")
CASES = [case for case in json.loads(DATA.read_text())["cases"] if case["file"] in FUNCTION_GROUPS]


def evaluate(text: str, **bindings: object) -> object:
    return compile_expression(text).evaluate(bindings)


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_conformance_case_of_a_function_group(case: dict) -> None:
    bindings = {name: decode(value) for name, value in case["bindings"].items()}
    if "error" in case["expected"]:
        with pytest.raises(DslError):
            compile_expression(case["expr"]).evaluate(bindings)
        return
    want = decode(case["expected"]["value"])
    assert same(compile_expression(case["expr"]).evaluate(bindings), want)


def test_the_function_groups_are_present() -> None:
    assert {case["file"] for case in CASES} == set(FUNCTION_GROUPS)
    assert len(CASES) > 100


@pytest.mark.parametrize(
    "text",
    [
        "'ta©o©αT'.indexOf('©αT', 3) == 4",
        "'bananananana'.lastIndexOf('nana', 7) == 6",
        "'{0} days {0} hours'.replace('{0}', '2', 1).replace('{0}', '23') == '2 days 23 hours'",
        "'o©o©o©o'.split('©', -1) == ['o', 'o', 'o', 'o']",
        "'\\u0085\\u00a0\\u1680text\\u3000'.trim() == 'text'",
        "['x', 'y'].join('-') == 'x-y' && [].join() == ''",
        "strings.quote('first\\nsecond') == '\"first\\\\nsecond\"'",
        "'%s scored %.1f (%d%%)'.format(['ann', 9.25, 90]) == 'ann scored 9.2 (90%)'",
        "'%s'.format([type('s')]) == 'string'",
        "math.greatest(5.4, 10, 3u, -5.0, 9223372036854775807) == 9223372036854775807",
        "math.least([dyn(5.4), dyn(10u), dyn(3u), dyn(1u), dyn(3.5)]) == 1u",
        "math.round(-1.5) == -2.0 && math.isNaN(math.round(0.0/0.0))",
        "math.bitShiftRight(-1024, 64) == -1 && math.bitShiftLeft(1, 200) == 0",
        "sets.contains([1, 2, 3], [3, 1.0]) && !sets.intersects([1], [true])",
        "optional.none().or(optional.none()).orValue(42) == 42",
        "optional.ofNonZeroValue('').or(optional.of('x')).value() == 'x'",
        "get({'tier': 'gold'}, 'level', 'none') == 'none' && round(2.675, 2) == 2.68",
        "[1, [2, [3]]].flatten(2) == [1, 2, 3] && lists.range(3) == [0, 1, 2]",
        "timestamp('2009-02-13T23:31:30Z').getMinutes('Asia/Kathmandu') == 16",
        "timestamp('2009-02-13T02:00:00Z').getDayOfMonth('-02:30') == 11",
        "duration('10000s').getHours() == 2 && duration('3730s').getMinutes() == 62",
        "int(timestamp('2009-02-13T23:31:30Z')) == 1234567890",
        "string(duration('1h45m47s')) == '6347s'",
        "now - duration('24h') < now && now.getFullYear('UTC') == 2024",
    ],
)
def test_extension_expressions(text: str) -> None:
    assert evaluate(text, now=datetime(2024, 1, 1, tzinfo=UTC)) is True


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("'tacocat'.charAt(30)", "DSL_INVALID_ARGUMENT"),
        ("'tacocat'.substring(4, 3)", "DSL_INVALID_ARGUMENT"),
        ("'%a'.format([1])", "DSL_INVALID_ARGUMENT"),
        ("'%d'.format([duration('30m2s')])", "DSL_NO_MATCHING_OVERLOAD"),
        ("math.abs(-9223372036854775807 - 1)", "DSL_OVERFLOW"),
        ("math.ceil(dyn(1))", "DSL_NO_MATCHING_OVERLOAD"),
        ("optional.none().value()", "DSL_INVALID_ARGUMENT"),
        ("timestamp('9999-12-31T23:59:59Z') + duration('1s')", "DSL_RANGE"),
        ("timestamp('9999-12-31T23:59:59Z') - timestamp('0001-01-01T00:00:00Z')", "DSL_RANGE"),
        ("duration('200000000000s')", "DSL_RANGE"),
        ("timestamp('2009-02-13T23:31:30Z').getHours('Mars/Base')", "DSL_INVALID_ARGUMENT"),
        ("'a'.matches('(')", "DSL_INVALID_ARGUMENT"),
        ("uint(-1)", "DSL_RANGE"),
    ],
)
def test_extension_errors(text: str, code: str) -> None:
    with pytest.raises(DslError) as err:
        evaluate(text)
    assert err.value.code == code


def test_results_keep_their_cel_type() -> None:
    assert type(evaluate("math.greatest(1u, 1)")) is UInt
    assert type(evaluate("math.sign(-2.5)")) is float
    assert type(evaluate("round(1250, -2)")) is int
