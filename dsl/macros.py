"""The macros: `has`, the comprehensions and the optional mappers, compiled to loops.

    list.all(x, p)   list.exists(x, p)   list.exists_one(x, p)  (also existsOne)
    list.map(x, f)   list.map(x, p, f)   list.filter(x, p)
    list.all(i, v, p) ... two-variable forms: index and value (maps: key and value)
    list.transformList(i, v, f)  list.transformList(i, v, p, f)
    map.transformMap(k, v, f)    map.transformMap(k, v, p, f)
    opt.optMap(x, f)  opt.optFlatMap(x, f)  cel.bind(x, init, body)

Comprehension variables live in the evaluation's private env for the duration of the loop (a
variable shadows a binding of the same name and is restored after). Every step is charged to the
evaluation's `Budget` before it runs: the static cost of the body (its nodes, weighted as in
`dsl.limits`), so a step that builds or compares large values pays for that on top (D10, A74).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dsl import operators
from dsl.compiling import MISSING, Compiling
from dsl.errors import DslEvalError, DslSyntaxError
from dsl.limits import BUDGET, Budget, check_length
from dsl.specialize import Code, Env, Fn
from dsl.syntax import Node
from dsl.values import Optional


def compile_has(compiler: Compiling, node: Node, arg: Node) -> Code:
    if arg.kind != "select":
        raise compiler.error(DslSyntaxError, "has() takes a field selection, such as has(event.amount)", arg)
    operand, field = compiler.compile(arg.args[0]), arg.args[1]
    fn = operand.fn
    return compiler.fold(lambda env: (field in v) if type(v := fn(env)) is dict else operators.has(v, field), operand)


def variable_count(name: str, count: int) -> int:
    """How many of a macro call's `count` arguments are variables (`x.map(v, f)`: 1)."""
    shape = _SHAPES.get(name)
    return shape[0](count) if shape is not None else 1


def applies(name: str, args: tuple[Node, ...]) -> bool:
    """Whether `x.name(args)` has the shape of the macro (its variables are plain identifiers)."""
    variables, counts = _SHAPES[name]
    return len(args) in counts and all(arg.kind == "ident" for arg in args[: variables(len(args))])


def _items(value: Any, macro: str, pairs: bool) -> list:
    if type(value) is list:
        return list(enumerate(value)) if pairs else value
    if isinstance(value, Mapping):
        return list(value.items()) if pairs else list(value)
    raise operators.no_overload(macro, value)


def _comprehension(compiler: Compiling, node: Node, count: int, loop: Callable[..., Any]) -> Code:
    """Compile `target.macro(v1[, v2], body...)` with `count` variables around `loop`.

    A step costs one unit and what the bodies cost statically (`Compiling.cost`). A comprehension whose range is
    a constant and whose bodies read nothing but its own variables is a constant too: it runs once,
    here, so one that must go over the budget is refused when the rule is compiled (A74)."""
    target, name, args = node.args[:3]
    names = [arg.args[0] for arg in args[:count]]
    if len(set(names)) != len(names):
        raise compiler.error(DslSyntaxError, f"{name}() needs two different variable names", node)
    source = compiler.compile(target)
    outer = compiler.enter_scope(names)
    cost_before = compiler.cost
    try:
        bodies = [compiler.compile(arg).fn for arg in args[count:]]
    finally:
        closed = compiler.leave_scope(outer, count)
    weight = compiler.cost - cost_before + 1  # the bodies, and the step itself
    compiler.needs_env = True
    range_fn, _pairs = source.fn, count == 2
    if count == 1:
        run = _single_variable_loop(names, name, range_fn, loop, bodies, weight)
    else:
        run = _pairs_loop(names, name, range_fn, loop, bodies, weight)
    return compiler.fold(run, source) if closed else Code(run)


def _pairs_loop(names: list[str], macro: str, range_fn: Fn, loop: Any, bodies: list[Fn], weight: int) -> Fn:
    def run(env: Env) -> Any:
        budget: Budget = env[BUDGET]
        budget.remaining -= 1  # the comprehension itself; its first step checks the budget
        items = _items(range_fn(env), macro, True)
        saved = {n: env.get(n, MISSING) for n in names}  # the names differ (checked above)
        try:
            return loop(env, names, items, budget, weight, *bodies)
        finally:
            # Restore what the variables shadowed, so an outer scope sees its own values again.
            for n, value in saved.items():
                if value is MISSING:
                    env.pop(n, None)
                else:
                    env[n] = value

    return run


def _single_variable_loop(names: list[str], macro: str, range_fn: Fn, loop: Any, bodies: list[Fn], weight: int) -> Fn:
    """The common one-variable case without the per-call list building of the general one."""
    (var,) = names

    def run(env: Env) -> Any:
        budget: Budget = env[BUDGET]
        budget.remaining -= 1  # the comprehension itself; its first step checks the budget
        items = range_fn(env)
        if type(items) is not list:
            items = _items(items, macro, False)
        saved = env.get(var, MISSING)
        try:
            return loop(env, names, items, budget, weight, *bodies)
        finally:
            if saved is MISSING:
                env.pop(var, None)
            else:
                env[var] = saved

    return run


# The loops below bind the variables inline (no helper call per element): with one variable the
# item is the element (a list element or a map key); with two it is an (index or key, value) pair.
# Each step is charged inline too (`Budget.charge` without the call): the body's weight, and the
# clock read when `check_at` is passed.


def _quantifier(stop: bool, macro: str) -> Callable[..., bool]:
    """`all` (stops at the first false) and `exists` (stops at the first true). An error or a
    non-bool is remembered and raised only when no element decides the result, as CEL's
    logical operators absorb errors."""
    go_on = not stop

    def loop(env: Env, names: list[str], items: list, budget: Budget, weight: int, predicate: Fn) -> bool:
        error: DslEvalError | None = None
        first, second = names[0], names[-1]
        for item in items:
            budget.remaining -= weight
            if budget.remaining < budget.check_at:
                budget.settle()
            if first is second:
                env[first] = item
            else:
                env[first], env[second] = item
            try:
                result = predicate(env)
            except DslEvalError as exc:
                error = error or exc
                continue
            if result is stop:
                return stop
            if result is not go_on:
                error = error or operators.no_overload(macro, result)
        if error is not None:
            raise error
        return go_on

    return loop


_all = _quantifier(False, "all")
_exists = _quantifier(True, "exists")


def _exists_one(env: Env, names: list[str], items: list, budget: Budget, weight: int, predicate: Fn) -> bool:
    found = 0
    first, second = names[0], names[-1]
    for item in items:
        budget.remaining -= weight
        if budget.remaining < budget.check_at:
            budget.settle()
        if first is second:
            env[first] = item
        else:
            env[first], env[second] = item
        result = predicate(env)
        if result is True:
            found += 1
        elif result is not False:
            raise operators.no_overload("exists_one", result)
    return found == 1


def _map(env: Env, names: list[str], items: list, budget: Budget, weight: int, *bodies: Fn) -> list:
    *predicate, transform = bodies
    keep = predicate[0] if predicate else None
    first, second = names[0], names[-1]
    built = []
    for item in items:
        budget.remaining -= weight
        if budget.remaining < budget.check_at:
            budget.settle()
        if first is second:
            env[first] = item
        else:
            env[first], env[second] = item
        if keep is not None:
            wanted = keep(env)
            if wanted is False:
                continue
            if wanted is not True:
                raise operators.no_overload("map", wanted)
        built.append(transform(env))
    return check_length(built)


def _filter(env: Env, names: list[str], items: list, budget: Budget, weight: int, predicate: Fn) -> list:
    (name,) = names
    kept = []
    for item in items:
        budget.remaining -= weight
        if budget.remaining < budget.check_at:
            budget.settle()
        env[name] = item
        wanted = predicate(env)
        if wanted is True:
            kept.append(item)
        elif wanted is not False:
            raise operators.no_overload("filter", wanted)
    return kept


def _transform_map(env: Env, names: list[str], items: list, budget: Budget, weight: int, *bodies: Fn) -> dict:
    *predicate, transform = bodies
    keep = predicate[0] if predicate else None
    first, second = names
    built = {}
    for key, value in items:
        budget.remaining -= weight
        if budget.remaining < budget.check_at:
            budget.settle()
        env[first], env[second] = key, value
        if keep is not None:
            wanted = keep(env)
            if wanted is False:
                continue
            if wanted is not True:
                raise operators.no_overload("transformMap", wanted)
        built[key] = transform(env)
    return check_length(built)


def _optional_map(compiler: Compiling, node: Node, flat: bool) -> Code:
    target, name, (variable, body) = node.args[:3]
    source = compiler.compile(target)
    outer = compiler.enter_scope([variable.args[0]])
    try:
        body_fn = compiler.compile(body).fn
    finally:
        compiler.leave_scope(outer, 1)
    compiler.needs_env = True
    var, source_fn = variable.args[0], source.fn

    def run(env: Env) -> Any:
        value = source_fn(env)
        if type(value) is not Optional:
            raise operators.no_overload(name, value)
        if not value.has_value:
            return value
        saved = env.get(var, MISSING)
        env[var] = value.value
        try:
            result = body_fn(env)
        finally:
            if saved is MISSING:
                env.pop(var, None)
            else:
                env[var] = saved
        if not flat:
            return Optional.of(result)
        if type(result) is not Optional:
            raise operators.no_overload(name, result)
        return result

    return Code(run)


def _cel_bind(compiler: Compiling, node: Node) -> Code:
    """`cel.bind(x, init, body)`: `body` with `x` bound to the value of `init`, computed once."""
    target, _, (variable, init, body) = node.args[:3]
    if target.kind != "ident" or target.args[0] != "cel":
        raise compiler.error(DslSyntaxError, "bind() is written cel.bind(name, value, body)", node)
    init_fn, var = compiler.compile(init).fn, variable.args[0]
    outer = compiler.enter_scope([var])
    try:
        body_fn = compiler.compile(body).fn
    finally:
        compiler.leave_scope(outer, 1)
    compiler.needs_env = True

    def run(env: Env) -> Any:
        saved = env.get(var, MISSING)
        env[var] = init_fn(env)
        try:
            return body_fn(env)
        finally:
            if saved is MISSING:
                env.pop(var, None)
            else:
                env[var] = saved

    return Code(run)


def _loop_macro(loop: Callable[..., Any], two_variable_counts: tuple[int, ...]) -> Callable[..., Code]:
    def compile_macro(compiler: Compiling, node: Node) -> Code:
        count = 2 if len(node.args[2]) in two_variable_counts else 1
        return _comprehension(compiler, node, count, loop)

    return compile_macro


def _compile_transform_list(compiler: Compiling, node: Node) -> Code:
    return _comprehension(compiler, node, 2, _map)


def _compile_transform_map(compiler: Compiling, node: Node) -> Code:
    return _comprehension(compiler, node, 2, _transform_map)


MACROS: dict[str, Callable[[Compiling, Node], Code]] = {
    "all": _loop_macro(_all, (3,)),
    "exists": _loop_macro(_exists, (3,)),
    "exists_one": _loop_macro(_exists_one, (3,)),
    "existsOne": _loop_macro(_exists_one, (3,)),
    "map": _loop_macro(_map, ()),
    "filter": _loop_macro(_filter, ()),
    "transformList": _compile_transform_list,
    "transformMap": _compile_transform_map,
    "optMap": lambda compiler, node: _optional_map(compiler, node, flat=False),
    "optFlatMap": lambda compiler, node: _optional_map(compiler, node, flat=True),
    "bind": _cel_bind,
}

# name -> (how many leading arguments are variables, for a given argument count; accepted counts)
_SHAPES: dict[str, tuple[Callable[[int], int], frozenset[int]]] = {
    "all": (lambda n: n - 1, frozenset((2, 3))),
    "exists": (lambda n: n - 1, frozenset((2, 3))),
    "exists_one": (lambda n: n - 1, frozenset((2, 3))),
    "existsOne": (lambda n: n - 1, frozenset((2, 3))),
    "map": (lambda n: 1, frozenset((2, 3))),
    "filter": (lambda n: 1, frozenset((2,))),
    "transformList": (lambda n: 2, frozenset((3, 4))),
    "transformMap": (lambda n: 2, frozenset((3, 4))),
    "optMap": (lambda n: 1, frozenset((2,))),
    "optFlatMap": (lambda n: 1, frozenset((2,))),
    "bind": (lambda n: 1, frozenset((3,))),
}
