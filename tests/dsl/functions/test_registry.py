from dsl.functions.registry import Function, function, invalid_argument, method, no_overload, out_of_range


def test_function_and_method_build_the_two_styles():
    assert function("math.abs", abs, 1) == Function("math.abs", abs, frozenset({1}), method=False)
    size = method("size", len, 0, budget=True)
    assert size.method is True and size.needs_budget is True and size.arities == frozenset({0})


def test_error_helpers_carry_stable_codes():
    error = no_overload("size", 1, None)
    assert error.code == "DSL_NO_MATCHING_OVERLOAD"
    assert "'size'" in error.message and "(int, null_type)" in error.message
    assert invalid_argument("bad").code == "DSL_INVALID_ARGUMENT"
    assert out_of_range("far").code == "DSL_RANGE"
