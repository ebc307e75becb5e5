import pytest

from dsl.errors import DslEvalError, DslLimitError
from dsl.functions import GLOBALS, METHODS
from dsl.limits import LIST_LENGTH_MAX, Budget
from dsl.values import Optional, UInt
from tests.dsl.functions import invoke


def test_slice():
    assert invoke(METHODS["slice"], [1, 2, 3, 4], 1, 3) == [2, 3]
    assert invoke(METHODS["slice"], [1, 2], 2, 2) == []
    for start, end in ((-1, 2), (2, 1), (0, 5)):
        with pytest.raises(DslEvalError) as err:
            invoke(METHODS["slice"], [1, 2, 3, 4], start, end)
        assert err.value.code == "DSL_INVALID_ARGUMENT"


def test_flatten():
    nested = [1, [2, [3, [4]]]]
    assert invoke(METHODS["flatten"], nested) == [1, 2, [3, [4]]]
    assert invoke(METHODS["flatten"], nested, 0) == nested
    assert invoke(METHODS["flatten"], nested, 10) == [1, 2, 3, 4]
    with pytest.raises(DslEvalError) as err:
        invoke(METHODS["flatten"], nested, -1)
    assert err.value.code == "DSL_INVALID_ARGUMENT"


def test_range_and_its_limit():
    assert invoke(GLOBALS["lists.range"], 3) == [0, 1, 2]
    assert invoke(GLOBALS["lists.range"], 0) == []
    with pytest.raises(DslLimitError):
        invoke(GLOBALS["lists.range"], LIST_LENGTH_MAX + 1)
    with pytest.raises(DslEvalError) as err:
        invoke(GLOBALS["lists.range"], -1)
    assert err.value.code == "DSL_INVALID_ARGUMENT"


def test_distinct_uses_cel_equality():
    assert invoke(METHODS["distinct"], [1, 2.0, UInt(1), "a", 2, True]) == [1, 2.0, "a", True]
    assert invoke(METHODS["distinct"], [[1], [1.0], {"a": 1}, [2]]) == [[1], {"a": 1}, [2]]


def test_distinct_of_a_long_scalar_list_stays_cheap():
    budget = Budget()
    assert METHODS["distinct"].impl(budget, list(range(5000)) * 2) == list(range(5000))
    assert budget.remaining == Budget().remaining - 4 * 10_000  # no pairwise comparison: 4 an element


@pytest.mark.parametrize(
    ("name", "args"),
    [("slice", ("ab", 0, 1)), ("flatten", ({},)), ("distinct", ("ab",))],
)
def test_wrong_types(name, args):
    with pytest.raises(DslEvalError) as err:
        invoke(METHODS[name], *args)
    assert err.value.code == "DSL_NO_MATCHING_OVERLOAD"


def test_sort_orders_one_kind_and_numbers_by_value():
    assert invoke(METHODS["sort"], [3, 1.5, UInt(2)]) == [1.5, UInt(2), 3]
    assert invoke(METHODS["sort"], ["b", "a"]) == ["a", "b"]
    assert invoke(METHODS["sort"], []) == []
    for mixed in ([1, "a"], [[1], [0]], [True, 1]):
        with pytest.raises(DslEvalError) as err:
            invoke(METHODS["sort"], mixed)
        assert err.value.code == "DSL_NO_MATCHING_OVERLOAD"


def test_first_and_last_are_optionals():
    assert invoke(METHODS["first"], [1, 2]) == Optional.of(1)
    assert invoke(METHODS["last"], [1, 2]) == Optional.of(2)
    assert invoke(METHODS["first"], []) == Optional.none()
    with pytest.raises(DslEvalError):
        invoke(METHODS["last"], "ab")
