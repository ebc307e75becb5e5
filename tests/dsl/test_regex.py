import time

import pytest

from dsl.errors import DslEvalError, DslLimitError
from dsl.limits import REGEX_INPUT_MAX, REGEX_PATTERN_MAX
from dsl.regex import compile_pattern, regex_matches


def test_search_is_unanchored():
    assert regex_matches("hubba", "ubb")
    assert not regex_matches("hubba", "^ubb")


def test_patterns_are_compiled_once():
    assert compile_pattern("gr(a|e)y") is compile_pattern("gr(a|e)y")


@pytest.mark.parametrize("pattern", ["(", "a{1001}", r"(a)\1", "(?=a)", "[z-a]"])
def test_invalid_or_non_linear_patterns_are_invalid_arguments(pattern):
    with pytest.raises(DslEvalError) as err:
        regex_matches("a", pattern)
    assert err.value.code == "DSL_INVALID_ARGUMENT"


def test_non_ascii_text_matches_by_code_point():
    assert regex_matches("mañana", "^ma.ana$")
    assert regex_matches("🐱", "^.$")


def test_unpaired_surrogates_are_invalid_arguments():
    with pytest.raises(DslEvalError) as err:
        regex_matches("\udc31", ".")
    assert err.value.code == "DSL_INVALID_ARGUMENT"


def test_pattern_and_input_lengths_are_bounded():
    with pytest.raises(DslLimitError) as err:
        regex_matches("a", "a" * (REGEX_PATTERN_MAX + 1))
    assert err.value.code == "DSL_LIMIT_REGEX"
    with pytest.raises(DslLimitError) as err:
        regex_matches("a" * (REGEX_INPUT_MAX + 1), "a")
    assert err.value.code == "DSL_LIMIT_REGEX"


def test_catastrophic_backtracking_patterns_run_in_linear_time():
    started = time.perf_counter()
    assert not regex_matches("a" * REGEX_INPUT_MAX, "(a+)+b")
    assert time.perf_counter() - started < 0.5
