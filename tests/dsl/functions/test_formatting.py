import math

import pytest

from dsl.errors import DslEvalError, DslLimitError
from dsl.functions import METHODS
from dsl.functions.formatting import fixed_shortest
from dsl.functions.timestamps import duration, timestamp
from dsl.values import CelType, UInt
from tests.dsl.functions import invoke


def fmt(template, *args):
    return invoke(METHODS["format"], template, list(args))


@pytest.mark.parametrize(
    ("template", "args", "expected"),
    [
        ("no substitution", [], "no substitution"),
        ("str is %s and some more", ["filler"], "str is filler and some more"),
        ("%% and also %%", [], "% and also %"),
        ("%%%s%%", ["text"], "%text%"),
        ("%d %d %d, %s %s %s", [1, 2, 3, "A", "B", "C"], "1 2 3, A B C"),
        ("%.3f", [1.2345], "1.234"),
        ("%.3f", [4.5], "4.500"),
        ("%f", [2.71828], "2.718280"),
        ("%f", [3], "3.000000"),
        ("%.6e", [1052.032911275], "1.052033e+03"),
        ("%e", [2.71828], "2.718280e+00"),
        ("%e", [math.nan], "NaN"),
        ("%f", [math.inf], "Infinity"),
        ("%d", [-math.inf], "-Infinity"),
        ("%d", [UInt(64)], "64"),
        ("%d", [2.5], "2.5"),
        ("%b", [5], "101"),
        ("%b", [UInt(64)], "1000000"),
        ("%b", [True], "1"),
        ("%b", [-5], "-101"),
        ("%o", [11], "13"),
        ("%o", [UInt(65535)], "177777"),
        ("%x", [30], "1e"),
        ("%X", [30], "1E"),
        ("%x", [UInt(500)], "1f4"),
        ("%x", [-255], "-ff"),
        ("%x", ["Hello world!"], "48656c6c6f20776f726c6421"),
        ("%X", [b"byte string"], "6279746520737472696E67"),
        ("%s", [None], "null"),
        ("%s", [999999999999], "999999999999"),
        ("%s", [b"xyz"], "xyz"),
        ("%s", [CelType("string")], "string"),
        ("%s", [timestamp("2023-02-03T23:31:20+00:00")], "2023-02-03T23:31:20Z"),
        ("%s", [duration("1h45m47s")], "6347s"),
        ("%s, %s", [True, False], "true, false"),
        ("%s, %s", [32, 56.8], "32, 56.8"),
        ("%s", [1e20], "100000000000000000000"),
        (
            "%s",
            [["abc", 3.14, None, [9, 8, 7, 6], timestamp("2023-02-03T23:31:20Z")]],
            "[abc, 3.14, null, [9, 8, 7, 6], 2023-02-03T23:31:20Z]",
        ),
        (
            "%s",
            [{"key1": b"xyz", "key5": None, "key2": duration("2h"), "key4": True, "key3": 2.71828}],
            "{key1: xyz, key2: 7200s, key3: 2.71828, key4: true, key5: null}",
        ),
        ("%s", [{"strKey": "x", 6: duration("422s"), True: 42}], "{6: 422s, strKey: x, true: 42}"),
        ("%s", [[math.nan, math.inf, -math.inf]], "[NaN, Infinity, -Infinity]"),
    ],
)
def test_format(template, args, expected):
    assert fmt(template, *args) == expected


@pytest.mark.parametrize(
    ("template", "args", "code"),
    [
        ("%a", [1], "DSL_INVALID_ARGUMENT"),
        ("%E", [0.5], "DSL_INVALID_ARGUMENT"),
        ("50%", [], "DSL_INVALID_ARGUMENT"),
        ("%.f", [1.0], "DSL_INVALID_ARGUMENT"),
        ("%.1000f", [1.0], "DSL_INVALID_ARGUMENT"),
        ("%d %d %d", [0, 1], "DSL_INVALID_ARGUMENT"),
        ("string is %b", ["abc"], "DSL_NO_MATCHING_OVERLOAD"),
        ("%d", [duration("30m2s")], "DSL_NO_MATCHING_OVERLOAD"),
        ("octal: %o", ["a string"], "DSL_NO_MATCHING_OVERLOAD"),
        ("double is %x", [0.5], "DSL_NO_MATCHING_OVERLOAD"),
        ("%d", [None], "DSL_NO_MATCHING_OVERLOAD"),
        ("%e", [None], "DSL_NO_MATCHING_OVERLOAD"),
        ("%f", ["1.0"], "DSL_NO_MATCHING_OVERLOAD"),
        ("%X", [None], "DSL_NO_MATCHING_OVERLOAD"),
        ("%s", [[1, object()]], "DSL_NO_MATCHING_OVERLOAD"),
    ],
)
def test_format_errors(template, args, code):
    with pytest.raises(DslEvalError) as err:
        fmt(template, *args)
    assert err.value.code == code


def test_format_result_is_bounded():
    with pytest.raises(DslLimitError):
        fmt("%s%s", "x" * 60_000, "y" * 60_000)


@pytest.mark.parametrize(("value", "text"), [(0.1, "0.1"), (-0.0, "-0"), (100.0, "100"), (1e-7, "0.0000001")])
def test_fixed_shortest(value, text):
    assert fixed_shortest(value) == text
