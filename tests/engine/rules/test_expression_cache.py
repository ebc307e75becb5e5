"""The memo of compiled expressions: hits, the LRU bound, remembered errors, threads, and loads
of an edited bundle compiling only what changed."""

import sys
import threading
import uuid

import pytest

from dsl import DslError, DslNameError, DslSyntaxError
from engine.rules.compiler import VARIABLES
from engine.rules.expression_cache import ExpressionCache, compile_cached, expression_cache
from engine.rules.loader import load_bundle_text

EVENT = frozenset({"event"})


def test_the_same_text_and_variables_compile_once() -> None:
    cache = ExpressionCache(size_max=8)
    first = cache.compile("event.amount > 10.0", EVENT)
    assert cache.compile("event.amount > 10.0", EVENT) is first
    assert first.evaluate({"event": {"amount": 12.5}}) is True
    stats = cache.stats()
    assert (stats.compilations, stats.hits, stats.size, stats.size_max) == (1, 1, 1, 8)


def test_other_declared_variables_are_another_entry() -> None:
    cache = ExpressionCache(size_max=8)
    with_event = cache.compile("event.a == 1", EVENT)
    with pytest.raises(DslNameError):
        cache.compile("event.a == 1", frozenset({"participant"}))
    assert cache.compile("event.a == 1", EVENT) is with_event
    assert cache.stats().compilations == 2


def test_the_least_recently_used_entry_is_dropped_beyond_the_bound() -> None:
    cache = ExpressionCache(size_max=3)
    one = cache.compile("1 + 1", EVENT)
    cache.compile("2 + 2", EVENT)
    cache.compile("3 + 3", EVENT)
    assert cache.compile("1 + 1", EVENT) is one  # used again: now the most recent
    cache.compile("4 + 4", EVENT)  # drops "2 + 2", the least recently used
    assert cache.stats().size == 3
    compiled = cache.stats().compilations
    assert cache.compile("1 + 1", EVENT) is one
    assert cache.stats().compilations == compiled
    cache.compile("2 + 2", EVENT)
    assert cache.stats().compilations == compiled + 1
    assert cache.stats().size == 3


def test_a_bound_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="size_max"):
        ExpressionCache(size_max=0)


def test_a_compile_error_is_remembered_and_raised_again_with_the_same_positions() -> None:
    cache = ExpressionCache(size_max=8)
    raised = []
    for _ in range(3):
        with pytest.raises(DslSyntaxError) as caught:
            cache.compile("event.amount >> 2.0", EVENT)
        raised.append(caught.value)
    assert cache.stats().compilations == 1 and cache.stats().hits == 2
    first = raised[0]
    for error in raised[1:]:
        assert error is not first  # each caller gets its own exception object
        assert (error.code, error.message, error.line, error.column, error.offset, error.end, error.excerpt) == (
            first.code,
            first.message,
            first.line,
            first.column,
            first.offset,
            first.end,
            first.excerpt,
        )
        assert error.__cause__ is None and error.__context__ is None
    assert str(raised[2]) == str(first)


def test_a_remembered_error_keeps_its_suggestion() -> None:
    cache = ExpressionCache(size_max=8)
    for _ in range(2):
        with pytest.raises(DslNameError) as caught:
            cache.compile("evnt.amount > 1.0", EVENT)
    assert (caught.value.suggestion, caught.value.offset) == ("event", 0)


def test_clear_empties_the_cache_and_its_counters() -> None:
    cache = ExpressionCache(size_max=8)
    cache.compile("1 + 1", EVENT)
    cache.clear()
    assert cache.stats() == type(cache.stats())(0, 0, 0, 8)


def test_threads_compiling_the_same_new_text_all_get_one_shared_expression() -> None:
    cache = ExpressionCache(size_max=8)
    text = "event.items.exists(i, i.price > 50.0) && event.type == 'purchase'"
    start = threading.Barrier(8)
    got: list = []

    def work() -> None:
        start.wait()
        expression = cache.compile(text, EVENT)
        traced = expression.evaluate_traced({"event": {"type": "purchase", "items": [{"price": 60.0}]}})
        got.append((expression, traced.value, [step.text for step in traced.steps]))

    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch_interval)
    assert len({id(expression) for expression, _, _ in got}) == 1
    assert all(value is True and steps == got[0][2] for _, value, steps in got) and got[0][2]
    assert cache.stats().size == 1


def _bundle(conditions: list[str]) -> str:
    rules = "".join(
        f"  - name: rule_{index}\n    condition: {condition}\n"
        f"    actions: [{{type: CREDIT, asset_id: PTS, amount: 'event.amount * {index}.0'}}]\n"
        for index, condition in enumerate(conditions)
    )
    return "program: {key: demo, name: Demo}\nassets:\n  - {symbol: PTS, name: Points, scale: 0}\nrules:\n" + rules


def test_reloading_an_edited_bundle_compiles_only_the_changed_expression() -> None:
    marker = uuid.uuid4().hex  # texts no other test has put into the process-wide cache
    conditions = [f"event.type == '{marker}_{index}'" for index in range(20)]
    first = load_bundle_text(_bundle(conditions))
    assert first.ok
    before = expression_cache.stats().compilations
    conditions[7] = f"event.type == '{marker}_7' && event.amount > 5.0"
    edited = load_bundle_text(_bundle(conditions))
    assert edited.ok and expression_cache.stats().compilations == before + 1
    by_name = {rule.name: rule for rule in edited.program.rules}
    assert by_name["rule_7"].condition.source.endswith("event.amount > 5.0")
    assert by_name["rule_6"].condition is {r.name: r for r in first.program.rules}["rule_6"].condition
    again = load_bundle_text(_bundle(conditions) + "# a comment only\n")
    assert again.ok and expression_cache.stats().compilations == before + 1


def test_an_expression_error_is_placed_alike_when_it_comes_from_the_cache() -> None:
    marker = uuid.uuid4().hex
    text = _bundle([f"event.type == '{marker}' && evnt.amount > 1.0"])
    first, second = load_bundle_text(text), load_bundle_text("# moved down a line\n" + text)
    [problem] = first.problems
    [moved] = second.problems
    column = text.splitlines()[5].index("evnt") + 1
    assert (problem.code, problem.line, problem.column) == ("DSL_UNKNOWN_NAME", 6, column)
    assert (moved.code, moved.line, moved.column, moved.message) == (problem.code, 7, column, problem.message)


def test_compile_cached_uses_the_process_wide_cache() -> None:
    text = f"event.type == '{uuid.uuid4().hex}'"
    assert compile_cached(text, VARIABLES) is compile_cached(text, VARIABLES)
    with pytest.raises(DslError):
        compile_cached(f"{text} &&", VARIABLES)
