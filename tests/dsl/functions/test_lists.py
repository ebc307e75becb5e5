import pytest

from dsl.errors import DslEvalError, DslLimitError
from dsl.functions import GLOBALS, METHODS
from dsl.limits import LIST_LENGTH_MAX, Budget
from dsl.values import Optional, UInt


def test_slice():
    assert METHODS["slice"].impl([1, 2, 3, 4], 1, 3) == [2, 3]
    assert METHODS["slice"].impl([1, 2], 2, 2) == []
    for start, end in ((-1, 2), (2, 1), (0, 5)):
        with pytest.raises(DslEvalError) as err:
            METHODS["slice"].impl([1, 2, 3, 4], start, end)
        assert err.value.code == "DSL_INVALID_ARGUMENT"


def test_flatten():
    nested = [1, [2, [3, [4]]]]
    assert METHODS["flatten"].impl(Budget(), nested) == [1, 2, [3, [4]]]
    assert METHODS["flatten"].impl(Budget(), nested, 0) == nested
    assert METHODS["flatten"].impl(Budget(), nested, 10) == [1, 2, 3, 4]
    with pytest.raises(DslEvalError) as err:
        METHODS["flatten"].impl(Budget(), nested, -1)
    assert err.value.code == "DSL_INVALID_ARGUMENT"


def test_range_and_its_limit():
    assert GLOBALS["lists.range"].impl(Budget(), 3) == [0, 1, 2]
    assert GLOBALS["lists.range"].impl(Budget(), 0) == []
    with pytest.raises(DslLimitError):
        GLOBALS["lists.range"].impl(Budget(), LIST_LENGTH_MAX + 1)
    with pytest.raises(DslEvalError) as err:
        GLOBALS["lists.range"].impl(Budget(), -1)
    assert err.value.code == "DSL_INVALID_ARGUMENT"


def test_distinct_uses_cel_equality():
    assert METHODS["distinct"].impl(Budget(), [1, 2.0, UInt(1), "a", 2, True]) == [1, 2.0, "a", True]
    assert METHODS["distinct"].impl(Budget(), [[1], [1.0], {"a": 1}, [2]]) == [[1], {"a": 1}, [2]]


def test_distinct_of_a_long_scalar_list_stays_cheap():
    budget = Budget()
    assert METHODS["distinct"].impl(budget, list(range(5000)) * 2) == list(range(5000))
    assert budget.remaining == Budget().remaining - 10_000


@pytest.mark.parametrize(
    ("name", "args"),
    [("slice", ("ab", 0, 1)), ("flatten", (Budget(), {})), ("distinct", (Budget(), "ab"))],
)
def test_wrong_types(name, args):
    with pytest.raises(DslEvalError) as err:
        METHODS[name].impl(*args)
    assert err.value.code == "DSL_NO_MATCHING_OVERLOAD"


def test_sort_orders_one_kind_and_numbers_by_value():
    assert METHODS["sort"].impl(Budget(), [3, 1.5, UInt(2)]) == [1.5, UInt(2), 3]
    assert METHODS["sort"].impl(Budget(), ["b", "a"]) == ["a", "b"]
    assert METHODS["sort"].impl(Budget(), []) == []
    for mixed in ([1, "a"], [[1], [0]], [True, 1]):
        with pytest.raises(DslEvalError) as err:
            METHODS["sort"].impl(Budget(), mixed)
        assert err.value.code == "DSL_NO_MATCHING_OVERLOAD"


def test_first_and_last_are_optionals():
    assert METHODS["first"].impl([1, 2]) == Optional.of(1)
    assert METHODS["last"].impl([1, 2]) == Optional.of(2)
    assert METHODS["first"].impl([]) == Optional.none()
    with pytest.raises(DslEvalError):
        METHODS["last"].impl("ab")
