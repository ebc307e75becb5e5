import math

import pytest

from dsl.errors import DslEvalError
from dsl.functions import GLOBALS
from dsl.values import UInt
from tests.dsl.functions import invoke


def call(name, *args):
    return invoke(GLOBALS[f"math.{name}"], *args)


def exactly(a, b):
    return (
        type(a) is type(b)
        and (a == b or (a != a and b != b))
        and (type(a) is not float or math.copysign(1, a) == math.copysign(1, b))
    )


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("greatest", (1,), 1),
        ("greatest", (1, 2.5, UInt(3)), UInt(3)),
        ("greatest", ([5, 1, -2.5],), 5),
        ("greatest", (1, 1.0), 1),
        ("greatest", (math.nan, 1), 1),
        ("greatest", (1, math.nan), 1),
        ("least", ([math.nan, math.nan],), math.nan),
        ("least", (-1, 0.5), -1),
        ("least", ([UInt(3), 2.0, 7],), 2.0),
        ("least", (3, UInt(3), 3.0), 3),
        ("ceil", (1.2,), 2.0),
        ("ceil", (-0.5,), -0.0),
        ("floor", (-1.2,), -2.0),
        ("trunc", (-1.7,), -1.0),
        ("round", (2.5,), 3.0),
        ("round", (-2.5,), -3.0),
        ("round", (1.4999,), 1.0),
        ("round", (0.49999999999999994,), 0.0),
        ("round", (4503599627370497.0,), 4503599627370497.0),
        ("round", (math.inf,), math.inf),
        ("round", (math.nan,), math.nan),
        ("abs", (-3,), 3),
        ("abs", (-3.5,), 3.5),
        ("abs", (UInt(3),), UInt(3)),
        ("sign", (-2.5,), -1.0),
        ("sign", (0.0,), 0.0),
        ("sign", (math.nan,), math.nan),
        ("sign", (-7,), -1),
        ("sign", (0,), 0),
        ("sign", (UInt(9),), UInt(1)),
        ("isNaN", (math.nan,), True),
        ("isInf", (-math.inf,), True),
        ("isFinite", (1.2,), True),
        ("isFinite", (math.nan,), False),
        ("bitAnd", (3, 5), 1),
        ("bitOr", (UInt(3), UInt(5)), UInt(7)),
        ("bitXor", (3, 5), 6),
        ("bitNot", (1,), -2),
        ("bitNot", (UInt(0),), UInt(2**64 - 1)),
        ("bitShiftLeft", (1, 3), 8),
        ("bitShiftLeft", (1, 63), -(2**63)),
        ("bitShiftLeft", (UInt(1), 64), UInt(0)),
        ("bitShiftLeft", (UInt(2**63), 1), UInt(0)),
        ("bitShiftRight", (-8, 1), -4),
        ("bitShiftRight", (-8, 100), -1),
        ("bitShiftRight", (UInt(2**64 - 1), 63), UInt(1)),
    ],
)
def test_math_extension(name, args, expected):
    assert exactly(call(name, *args), expected)


@pytest.mark.parametrize(
    ("name", "args", "code"),
    [
        ("greatest", ([],), "DSL_INVALID_ARGUMENT"),
        ("greatest", ("a",), "DSL_NO_MATCHING_OVERLOAD"),
        ("greatest", (1, "a"), "DSL_NO_MATCHING_OVERLOAD"),
        ("least", ([1, True],), "DSL_NO_MATCHING_OVERLOAD"),
        ("ceil", (1,), "DSL_NO_MATCHING_OVERLOAD"),
        ("round", (UInt(1),), "DSL_NO_MATCHING_OVERLOAD"),
        ("abs", (-(2**63),), "DSL_OVERFLOW"),
        ("abs", ("1",), "DSL_NO_MATCHING_OVERLOAD"),
        ("sign", (True,), "DSL_NO_MATCHING_OVERLOAD"),
        ("isNaN", (1,), "DSL_NO_MATCHING_OVERLOAD"),
        ("bitAnd", (1, UInt(1)), "DSL_NO_MATCHING_OVERLOAD"),
        ("bitNot", (1.0,), "DSL_NO_MATCHING_OVERLOAD"),
        ("bitShiftLeft", (1, -1), "DSL_INVALID_ARGUMENT"),
        ("bitShiftRight", (1, UInt(1)), "DSL_NO_MATCHING_OVERLOAD"),
    ],
)
def test_math_errors(name, args, code):
    with pytest.raises(DslEvalError) as err:
        call(name, *args)
    assert err.value.code == code


def test_greatest_accepts_many_arguments():
    assert GLOBALS["math.greatest"].arities == frozenset(range(1, 65))
    assert call("greatest", *range(64)) == 63
