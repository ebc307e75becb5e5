from datetime import timedelta

import pytest

from dsl.errors import DslEvalError
from dsl.functions import GLOBALS, METHODS
from dsl.temporal import EPOCH
from dsl.values import Optional, UInt


def test_of_none_and_accessors():
    held = GLOBALS["optional.of"].impl(0)
    empty = GLOBALS["optional.none"].impl()
    assert METHODS["hasValue"].impl(held) is True
    assert METHODS["hasValue"].impl(empty) is False
    assert METHODS["value"].impl(held) == 0
    assert METHODS["orValue"].impl(held, 5) == 0
    assert METHODS["orValue"].impl(empty, 5) == 5
    assert METHODS["or"].impl(empty, held) is held
    assert METHODS["or"].impl(held, empty) is held


@pytest.mark.parametrize("zero", [None, False, 0, UInt(0), 0.0, "", b"", [], {}, timedelta(0), EPOCH])
def test_of_non_zero_value_is_empty_for_zero_values(zero):
    assert GLOBALS["optional.ofNonZeroValue"].impl(zero) == Optional.none()


@pytest.mark.parametrize("value", [True, 1, UInt(1), -0.5, "a", b"a", [0], {"a": 0}, timedelta(seconds=1)])
def test_of_non_zero_value_holds_other_values(value):
    assert GLOBALS["optional.ofNonZeroValue"].impl(value) == Optional.of(value)


def test_value_of_an_empty_optional_is_an_error():
    with pytest.raises(DslEvalError) as err:
        METHODS["value"].impl(Optional.none())
    assert err.value.code == "DSL_INVALID_ARGUMENT"


@pytest.mark.parametrize(
    ("name", "args"),
    [("hasValue", (1,)), ("value", (None,)), ("orValue", ("a", 1)), ("or", (Optional.none(), 1))],
)
def test_methods_need_an_optional(name, args):
    with pytest.raises(DslEvalError) as err:
        METHODS[name].impl(*args)
    assert err.value.code == "DSL_NO_MATCHING_OVERLOAD"
