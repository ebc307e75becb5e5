import math

import pytest

from dsl.errors import DslEvalError, DslLimitError
from dsl.functions import GLOBALS
from dsl.limits import Budget
from dsl.values import UInt


def call(name, a, b, budget=None):
    return GLOBALS[f"sets.{name}"].impl(budget or Budget(), a, b)


@pytest.mark.parametrize(
    ("name", "a", "b", "expected"),
    [
        ("contains", [], [], True),
        ("contains", [1], [], True),
        ("contains", [], [1], False),
        ("contains", [1, 2, 3, 4], [2, 3], True),
        ("contains", [1, 2, 3], [3, 1.0, UInt(2)], True),
        ("contains", [1], [True], False),
        ("contains", [True], [1], False),
        ("contains", [None, "a", b"a"], ["a", None], True),
        ("contains", ["a"], [b"a"], False),
        ("contains", [[1], {"a": 2}], [[1.0], {"a": UInt(2)}], True),
        ("contains", [[1, 2]], [[2, 1]], False),
        ("contains", [math.nan], [math.nan], False),
        ("intersects", [1, 2], [UInt(2), 5], True),
        ("intersects", [1, 2], [3.5], False),
        ("intersects", [], [], False),
        ("intersects", [[1]], [[1]], True),
        ("equivalent", [1, 2, 2], [UInt(2), 1.0], True),
        ("equivalent", [1, 2], [1, 2, 3], False),
        ("equivalent", [], [], True),
    ],
)
def test_sets(name, a, b, expected):
    assert call(name, a, b) is expected


@pytest.mark.parametrize("name", ["contains", "intersects", "equivalent"])
def test_sets_need_two_lists(name):
    with pytest.raises(DslEvalError) as err:
        call(name, [1], {1: 1})
    assert err.value.code == "DSL_NO_MATCHING_OVERLOAD"


def test_sets_charge_the_budget():
    budget = Budget(cost=10)
    with pytest.raises(DslLimitError) as err:
        call("contains", list(range(8)), list(range(8)), budget)
    assert err.value.code == "DSL_LIMIT_COST"
    budget = Budget(cost=10_000)
    call("intersects", [[i] for i in range(10)], [[-1]] * 10, budget)
    # both lists read (20), the first one's keys made (40), 10 searches (20), each through 10
    # composites (4 a comparison: 400), and each of the 100 comparisons of one-element lists charged
    # for its element and the call (4 each)
    assert budget.remaining == 10_000 - 20 - 40 - 20 - 400 - 400
