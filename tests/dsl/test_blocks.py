import pytest

from dsl import DslEvalError, DslLimitError, DslSyntaxError, compile_expression


def run(source, bindings=None, variables=None):
    return compile_expression(source, variables=variables).evaluate(bindings or {})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("cel.block([2, cel.index(0) * 3], cel.index(1) + cel.index(0))", 8),
        ("cel.block([[1, 2, 3], size(cel.index(0))], cel.index(1) * cel.index(1))", 9),
        ("cel.block([], 'no slots')", "no slots"),
        ("cel.block(['a'], cel.index(0) + cel.block(['b'], cel.index(0)))", "ab"),  # the innermost block
        ("cel.block([{'tier': 'gold'}], has(cel.index(0).tier) && cel.index(0).tier == 'gold')", True),
        ("cel.block([optional.of(5)], [?cel.index(0), ?optional.none()])", [5]),
        ("[1, 2].map(x, cel.block([x * 10], cel.index(0) + x))", [11, 22]),  # a block per element
    ],
)
def test_block_values(source, expected):
    assert run(source) == expected


def test_a_slot_is_evaluated_once_per_block_evaluation():
    # 30 slots each doubling the previous one through two uses: memoised, this is 30 additions;
    # re-evaluated at every use it would be 2**30 of them and never finish.
    slots = ["1"] + [f"cel.index({n}) + cel.index({n})" for n in range(29)]
    assert run(f"cel.block([{', '.join(slots)}], cel.index(29))") == 2**29


def test_an_unused_slot_is_never_evaluated():
    assert run("cel.block([1 / 0, 7], cel.index(1))") == 7
    assert run("cel.block([event.missing], true || cel.index(0))", {"event": {}}) is True
    with pytest.raises(DslEvalError) as caught:
        run("cel.block([1 / 0, 7], cel.index(0) + cel.index(1))")
    assert caught.value.code == "DSL_DIVIDE_BY_ZERO"


def test_slots_see_the_scope_of_the_block_not_the_comprehension_variables_of_its_body():
    # `x` in the slot is the bound `x` (100), not the map's variable of the same name
    assert run("cel.block([x + 1], [1, 2].map(x, cel.index(0) + x))", {"x": 100}) == [102, 103]


def test_blocks_work_with_declared_variables_and_tracing():
    expr = compile_expression("cel.block([event.amount * 2.0], cel.index(0) > 10.0 ? cel.index(0) : 0.0)",
                              variables={"event"})  # fmt: skip
    assert expr.evaluate({"event": {"amount": 6.0}}) == 12.0
    traced = expr.evaluate_traced({"event": {"amount": 6.0}})
    assert traced.value == 12.0 and traced.error is None


def test_a_variable_named_cel_is_not_a_block():
    assert run("cel.index", {"cel": {"index": 3}}, variables={"cel"}) == 3
    assert run("[{'block': 1}].map(cel, cel.block)") == [1]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("cel.block([1], cel.index(1))", "cel.index(1) names no earlier slot"),
        ("cel.block([cel.index(0)], 1)", "cel.index(0) names no earlier slot"),
        ("cel.block([1], cel.index(-1))", "names no earlier slot"),
        ("cel.index(0)", "only valid inside cel.block()"),
        ("cel.block([1], cel.block([cel.index(0)], 2))", "cel.index(0) names no earlier slot"),
        ("cel.block([1], cel.index(0 + 0))", "int literal"),
        ("cel.block([1], cel.index('0'))", "int literal"),
        ("cel.block(1, 2)", "cel.block([slot, ...], body)"),
        ("cel.block([1])", "cel.block([slot, ...], body)"),
        ("cel.block([?optional.none()], 1)", "cel.block([slot, ...], body)"),
    ],
)
def test_malformed_blocks_are_syntax_errors(source, message):
    with pytest.raises(DslSyntaxError) as caught:
        compile_expression(source)
    assert message in str(caught.value)
    assert caught.value.code == "DSL_SYNTAX"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("cel.@block([3, @index0 * 2], @index1 + @index0)", 9),
        # a slot naming the comprehension's variable is evaluated for each element, where it is used
        ("cel.@block([[1, 2, 3], cel.iterVar(0, 0) * 10], @index0.map(cel.iterVar(0, 0), @index1))", [10, 20, 30]),
        (
            (
                "cel.@block([[1, 2], cel.iterVar(0, 0) > 1, cel.accuVar(0, 0) || @index1], "
                "[@index0.exists(cel.iterVar(0, 0), @index1), @index0.all(cel.iterVar(0, 0), @index1)])"
            ),
            [True, False],
        ),
        (
            (
                "cel.@block([[1, 2], [10, 20], cel.iterVar(0, 0) + cel.iterVar(1, 0), [@index2]], "
                "@index0.map(cel.iterVar(0, 0), @index1.map(cel.iterVar(1, 0), @index2)))"
            ),
            [[11, 21], [12, 22]],
        ),
    ],
)
def test_optimizer_spellings(source, expected):
    assert run(source) == expected


def test_a_slot_about_a_comprehension_variable_is_never_evaluated_outside_it():
    # the accumulator slot is never used, so it is never compiled or evaluated
    assert run("cel.@block([[1], cel.accuVar(0, 0) || true], @index0.exists(cel.iterVar(0, 0), true))") is True


def test_use_site_slots_cannot_multiply_without_bound():
    slots = ["cel.iterVar(0, 0)"] + [f"@index{n} + @index{n}" for n in range(20)]
    with pytest.raises(DslLimitError) as caught:
        compile_expression(f"cel.@block([[1], {', '.join(slots)}], @index0.map(cel.iterVar(0, 0), @index21))")
    assert caught.value.code == "DSL_LIMIT_DEPTH"
