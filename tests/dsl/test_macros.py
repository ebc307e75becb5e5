"""The macros: has, the one- and two-variable comprehensions, optional mappers, cel.bind, budgets."""

from __future__ import annotations

import pytest

from dsl import DslEvalError, DslLimitError, compile_expression, limits


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # cel-spec macros2 (two-variable comprehensions)
        ("[1, 2, 3].exists(i, v, i == 1 && v == 2)", True),
        ("[1, 'foo', 3].exists(i, v, i == 1 && v != '1')", True),
        ("[1, 'foo', 3].exists(i, v, i == 3 || v == '10')", False),
        ("{'key1':1, 'key2':2}.exists(k, v, k == 'key2' && v == 2)", True),
        ("[1, 2, 3].all(i, v, i > -1 && v > 0)", True),
        ("[0, 'foo', 3].all(i, v, v % 2 == i)", False),
        ("[1, 2, 3].all(i, v, 6 / (2 - v) == i)", False),
        ("[].all(i, v, i > -1 || v > 0)", True),
        ("[5, 7, 8].existsOne(i, v, v % 5 == i)", True),
        ("[0, 1, 2, 3, 4].existsOne(i, v, v % 2 == i)", False),
        ("{6: 'six', 7: 'seven', 8: 'eight'}.existsOne(k, v, k % 5 == 2 && v == 'seven')", True),
        ("[3].transformList(i, v, v * v + i)", [9]),
        ("[2, 4, 6].transformList(i, v, i != 1 && v != 4, v / 2 + i)", [1, 5]),
        ("{'foo': 'bar', 'baz': 'bux'}.transformMap(k, v, k + v)", {"foo": "foobar", "baz": "bazbux"}),
        ("{'foo': 'bar', 'baz': 'bux'}.transformMap(k, v, k != 'baz', k + v)", {"foo": "foobar"}),
        ("[10, 20].transformMap(i, v, v + i)", {0: 10, 1: 21}),
        # one-variable macros
        ("[1, 2, 3].exists_one(x, x > 2)", True),
        ("[1, 2, 3].map(x, x > 1, x * 10)", [20, 30]),
        ("{'a': 1}.map(k, k + '!')", ["a!"]),
        ("[1, 2, 3, 4].filter(x, x % 2 == 0)", [2, 4]),
        ("{'a': 1, 'b': 2}.filter(k, k != 'a')", ["b"]),
        ("[[1], [2, 3]].exists(l, l.exists(x, x == 3))", True),
        ("has({'a': 1}.a) && !has({'a': 1}.b)", True),
        ("cel.bind(x, 3, x * x + x)", 12),
        ("optional.of(2).optMap(x, x * 2).value()", 4),
        ("optional.none().optMap(x, x * 2).hasValue()", False),
        ("optional.of({'a': 1}).optFlatMap(m, m.?a).value()", 1),
    ],
)
def test_macro_values(text: str, expected: object) -> None:
    assert compile_expression(text).evaluate({}) == expected


@pytest.mark.parametrize(
    "text",
    ["[1, 2, 3].all(i, v, v / i != 17)", "[3, 2, 1, 0].existsOne(i, v, v / i > 1)",
     "[2, 1, 0].transformList(i, v, v / i)", "{'a': 0}.transformMap(k, v, 4 / v)", "1.all(x, true)",
     "[1, 2].filter(x, x)", "[1].all(x, 'no')", "optional.of(1).optFlatMap(x, x)", "[1].map(x, x, x)"],
)  # fmt: skip
def test_macro_errors(text: str) -> None:
    with pytest.raises(DslEvalError):
        compile_expression(text).evaluate({})


def test_all_prefers_false_over_an_error_and_exists_true() -> None:
    assert compile_expression("[0, 1].all(x, 1 / x > 5)").evaluate({}) is False
    assert compile_expression("[0, 1].exists(x, 1 / x == 1)").evaluate({}) is True


def test_loop_variables_do_not_leak_into_the_bindings() -> None:
    bindings = {"items": [1, 2]}
    assert compile_expression("items.all(x, x > 0)").evaluate(bindings) is True
    assert bindings == {"items": [1, 2]}


def test_two_variables_must_differ() -> None:
    from dsl import DslSyntaxError

    with pytest.raises(DslSyntaxError):
        compile_expression("[1].all(x, x, true)")


def test_comprehensions_are_bounded_by_the_cost_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "TIME_MAX_S", 60.0)  # the cost, not a loaded machine's clock, stops it
    expr = compile_expression("r.all(a, r.all(b, r.all(c, true)))")
    with pytest.raises(DslLimitError) as caught:
        expr.evaluate({"r": list(range(100))})
    assert caught.value.code == "DSL_LIMIT_COST"


def test_work_on_large_values_is_charged_by_size() -> None:
    # Each step concatenates 80,000 characters: a few thousand units a step, not one.
    expr = compile_expression("r.map(x, s + s).size()")
    with pytest.raises(DslLimitError) as caught:
        expr.evaluate({"r": list(range(5000)), "s": "x" * 40_000})
    assert caught.value.code == "DSL_LIMIT_COST"
    # Sharing one large value is not building it: a list of 5,000 references costs 5,000 steps.
    assert compile_expression("r.map(x, s).size()").evaluate({"r": list(range(5000)), "s": "x" * 90_000}) == 5000


def test_a_limit_is_never_absorbed_by_logic() -> None:
    expr = compile_expression("r.all(a, r.all(b, r.all(c, true))) || ok")
    with pytest.raises(DslLimitError):
        expr.evaluate({"r": list(range(100)), "ok": True})
