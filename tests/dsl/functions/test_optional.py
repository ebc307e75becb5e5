from datetime import timedelta

import pytest

from dsl.errors import DslEvalError
from dsl.functions import GLOBALS, METHODS
from dsl.temporal import EPOCH
from dsl.values import Optional, UInt
from tests.dsl.functions import invoke


def test_of_none_and_accessors():
    held = invoke(GLOBALS["optional.of"], 0)
    empty = invoke(GLOBALS["optional.none"])
    assert invoke(METHODS["hasValue"], held) is True
    assert invoke(METHODS["hasValue"], empty) is False
    assert invoke(METHODS["value"], held) == 0
    assert invoke(METHODS["orValue"], held, 5) == 0
    assert invoke(METHODS["orValue"], empty, 5) == 5
    assert invoke(METHODS["or"], empty, held) is held
    assert invoke(METHODS["or"], held, empty) is held


@pytest.mark.parametrize("zero", [None, False, 0, UInt(0), 0.0, "", b"", [], {}, timedelta(0), EPOCH])
def test_of_non_zero_value_is_empty_for_zero_values(zero):
    assert invoke(GLOBALS["optional.ofNonZeroValue"], zero) == Optional.none()


@pytest.mark.parametrize("value", [True, 1, UInt(1), -0.5, "a", b"a", [0], {"a": 0}, timedelta(seconds=1)])
def test_of_non_zero_value_holds_other_values(value):
    assert invoke(GLOBALS["optional.ofNonZeroValue"], value) == Optional.of(value)


def test_value_of_an_empty_optional_is_an_error():
    with pytest.raises(DslEvalError) as err:
        invoke(METHODS["value"], Optional.none())
    assert err.value.code == "DSL_INVALID_ARGUMENT"


@pytest.mark.parametrize(
    ("name", "args"),
    [("hasValue", (1,)), ("value", (None,)), ("orValue", ("a", 1)), ("or", (Optional.none(), 1))],
)
def test_methods_need_an_optional(name, args):
    with pytest.raises(DslEvalError) as err:
        invoke(METHODS[name], *args)
    assert err.value.code == "DSL_NO_MATCHING_OVERLOAD"
