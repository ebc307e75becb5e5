"""Syntax tree to Python closures: one small compile method per node kind, dispatch bound once.

The closure of a node takes `env`, the bindings mapping (or, for expressions that need one, a
private copy holding the cost budget and comprehension variables, see `dsl.expression`). Names,
functions and arities are resolved here, so an unknown one is a compile-time error with a
suggestion; sub-expressions that do not depend on the bindings are folded to constants.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from dsl import blocks, macros, operators, specialize
from dsl.compiling import Tracer
from dsl.errors import DslArityError, DslError, DslEvalError, DslFunctionError, DslLimitError, DslSyntaxError
from dsl.functions import GLOBALS, METHODS, Function
from dsl.limits import BUDGET, COST_MAX, Budget, budget_of
from dsl.literals import INT64_MAX
from dsl.parser import positioned
from dsl.resolve import resolve_name
from dsl.specialize import Code, Env, Fn, constant, selector
from dsl.suggest import nearest
from dsl.syntax import Node
from dsl.values import Optional

# What folding constants may spend while one expression compiles (each constant may spend the
# evaluation's COST_MAX; past this total the rest are left to run time).
FOLD_COST_MAX = COST_MAX


class Compiler:
    """Compiles one expression. `variables` None accepts any name and resolves it at evaluation.

    The helpers it dispatches to (`dsl.resolve`, `dsl.macros`, `dsl.blocks`) see it as a
    `dsl.compiling.Compiling`.
    """

    def __init__(self, text: str, variables: frozenset[str] | None, tracer: Tracer | None = None) -> None:
        self.text, self.variables, self.tracer = text, variables, tracer
        self.scope: list[str] = []  # comprehension variables in scope, innermost last
        self.reads: set[str] = set()
        self.needs_env = False  # True: the closures need the private env (budget, locals)
        self.blocks: list[Any] = []  # the cel.block()s being compiled, innermost last
        self.cost = 0  # the static cost of what is compiled so far (dsl.limits)
        self.sized = 0  # operations whose work grows with their operands (two or more: a budget)
        self.folded = 0  # units spent folding constants, bounded by FOLD_COST_MAX
        self._lowest_read = sys.maxsize  # see enter_scope

    def compile(self, node: Node) -> Code:
        start = self.cost
        try:
            code: Code = getattr(self, "_" + node.kind)(node)
        except DslLimitError as exc:
            if exc.offset is None:  # a constant over a limit, found by folding: point at it
                raise self.error(DslLimitError, exc.message, node, code=exc.code) from None
            raise
        self.cost = start + 1 if code.constant else self.cost + 1
        if self.tracer is not None:
            return Code(self.tracer(node, code.fn, self.text))
        return code

    def finish(self, code: Code) -> Code:
        """The root's code, once everything is compiled: an expression with more than one costly
        operation gets a budget of its own (A74)."""
        if self.sized > 1:
            self.needs_env = True
        return code

    def error(self, error_class: type[DslError], message: str, node: Node, **extra: Any) -> DslError:
        return positioned(error_class, message, self.text, node.start, end=node.end, **extra)

    def fold(self, fn: Fn, *parts: Code) -> Code:
        """A closure whose operands are all constants is run now; an error stays for run time, but
        a constant that goes over the cost budget is over it whenever it runs: a compile error.
        Folding spends at most FOLD_COST_MAX units of one expression's compilation."""
        if self.tracer is not None or not all(part.constant for part in parts) or self.folded > FOLD_COST_MAX:
            return Code(fn)
        budget = Budget()
        try:
            return constant(fn({BUDGET: budget}))
        except DslLimitError as exc:
            if exc.code == "DSL_LIMIT_TIME":
                return Code(fn)  # the clock is no proof: leave it to the evaluation's own budget
            raise
        except DslEvalError:
            return Code(fn)
        finally:
            self.folded += budget.total - budget.remaining

    def enter_scope(self, names: list[str]) -> int:
        outer, self._lowest_read = self._lowest_read, sys.maxsize
        self.scope.extend(names)
        return outer

    def leave_scope(self, outer: int, count: int) -> bool:
        del self.scope[-count:]
        closed = self._lowest_read >= len(self.scope)
        self._lowest_read = min(outer, self._lowest_read)
        return closed

    def note_read(self, position: int) -> None:
        if position < self._lowest_read:
            self._lowest_read = position

    # Literals and collections

    def _literal(self, node: Node) -> Code:
        value = node.args[0]
        if type(value) is int and value > INT64_MAX:
            raise self.error(DslSyntaxError, f"int literal {value} is out of range", node)
        return constant(value)

    def _list(self, node: Node) -> Code:
        elements, optional_flags = node.args
        parts = [self.compile(element) for element in elements]
        fns = [part.fn for part in parts]
        if any(optional_flags):
            pairs = list(zip(fns, optional_flags, strict=True))

            def build_optional(env: Env) -> list:
                built = []
                for f, flag in pairs:
                    value = f(env)
                    if not flag:
                        built.append(value)
                    elif _present(value):
                        built.append(value.value)
                return built

            return self.fold(build_optional, *parts)
        return self.fold(_list_builder(fns), *parts)

    def _map(self, node: Node) -> Code:
        entries = [(self.compile(k), self.compile(v), flag) for k, v, flag in node.args[0]]
        parts = [code for k, v, _ in entries for code in (k, v)]
        triples = [(k.fn, v.fn, flag) for k, v, flag in entries]
        keys = [k.value for k, _, _ in entries if k.constant and type(k.value) is str]
        if len(keys) == len(entries) and len(set(keys)) == len(keys) and not any(f for *_, f in triples):
            fields = list(zip(keys, [v for _, v, _ in triples], strict=True))
            return self.fold(lambda env: {key: f(env) for key, f in fields}, *parts)

        def build(env: Env) -> dict:
            pairs = []
            for key_fn, value_fn, flag in triples:
                key, value = key_fn(env), value_fn(env)
                if flag:
                    if not _present(value):
                        continue
                    value = value.value
                pairs.append((key, value))
            return operators.build_map(pairs)

        return self.fold(build, *parts)

    # Names and selection

    def _ident(self, node: Node) -> Code:
        return self.resolve(node)

    def _select(self, node: Node) -> Code:
        if node.dotted_name() is not None:
            return self.resolve(node)
        operand = self.compile(node.args[0])
        return self.fold(selector(operand.fn, node.args[1]), operand)

    def _opt_select(self, node: Node) -> Code:
        operand, field = self.compile(node.args[0]), node.args[1]
        fn = operand.fn
        return self.fold(lambda env: operators.optional_select(fn(env), field), operand)

    def _index(self, node: Node) -> Code:
        operand, key = self.compile(node.args[0]), self.compile(node.args[1])
        of, kf = operand.fn, key.fn
        return self.fold(lambda env: operators.index(of(env), kf(env)), operand, key)

    def _opt_index(self, node: Node) -> Code:
        operand, key = self.compile(node.args[0]), self.compile(node.args[1])
        of, kf = operand.fn, key.fn
        return self.fold(lambda env: operators.optional_index(of(env), kf(env)), operand, key)

    def resolve(self, node: Node) -> Code:
        """An identifier or a chain `a.b.c` on one: a comprehension variable, the longest declared
        (qualified) variable name, or a type name such as `int`."""
        return resolve_name(self, node)

    # Operators

    def _not(self, node: Node) -> Code:
        operand = self.compile(node.args[0])
        fn = operand.fn

        def negate(env: Env) -> Any:
            value = fn(env)
            if value is True:
                return False
            if value is False:
                return True
            return operators.not_(value)

        return self.fold(negate, operand)

    def _neg(self, node: Node) -> Code:
        operand = self.compile(node.args[0])
        fn = operand.fn
        return self.fold(lambda env: operators.neg(fn(env)), operand)

    def _binary(self, node: Node) -> tuple[Code, Code]:
        return self.compile(node.args[0]), self.compile(node.args[1])

    def _eq(self, node: Node) -> Code:
        left, right = self._binary(node)
        return self.operator(specialize.equality(False, left, right), left, right)

    def _ne(self, node: Node) -> Code:
        left, right = self._binary(node)
        return self.operator(specialize.equality(True, left, right), left, right)

    def _relation(self, node: Node) -> Code:
        left, right = self._binary(node)
        return self.operator(specialize.relation(node.kind, left, right), left, right)

    _lt = _le = _gt = _ge = _relation

    def _in(self, node: Node) -> Code:
        left, right = self._binary(node)
        return self.operator(specialize.membership(left, right), left, right)

    def _arithmetic(self, node: Node) -> Code:
        left, right = self._binary(node)
        return self.operator(specialize.arithmetic(node.kind, left, right), left, right)

    def operator(self, built: specialize.Built, left: Code, right: Code) -> Code:
        fn, sized = built
        code = self.fold(fn, left, right)
        if sized and not code.constant:
            self.sized += 1
        return code

    _add = _sub = _mul = _div = _mod = _arithmetic

    def _and(self, node: Node) -> Code:
        left, right = self._binary(node)
        if (left.value is False or right.value is False) and self.tracer is None:
            return constant(False)  # false wins over any error on the other side
        return self.fold(specialize.logical_and(left.fn, right.fn), left, right)

    def _or(self, node: Node) -> Code:
        left, right = self._binary(node)
        if (left.value is True or right.value is True) and self.tracer is None:
            return constant(True)
        return self.fold(specialize.logical_or(left.fn, right.fn), left, right)

    def _cond(self, node: Node) -> Code:
        condition, then, otherwise = (self.compile(part) for part in node.args)
        if condition.value is True and self.tracer is None:
            return then
        if condition.value is False and self.tracer is None:
            return otherwise
        fn = specialize.conditional(condition.fn, then.fn, otherwise.fn)
        return self.fold(fn, condition, then, otherwise)

    # Calls

    def _call(self, node: Node) -> Code:
        name, args = node.args
        if name == "has" and len(args) == 1:
            return macros.compile_has(self, node, args[0])
        if name == "now" and not args and "now" not in self.scope:
            return self.resolve(Node("ident", ("now",), node.start, node.end, 1))
        function = GLOBALS.get(name)
        if function is None:
            raise self.error(DslFunctionError, f"unknown function '{name}'", node,
                             suggestion=nearest(name, _global_names()))  # fmt: skip
        return self.call(function, node, [self.compile(arg) for arg in args])

    def _method(self, node: Node) -> Code:
        target, name, args, name_offset = node.args
        if blocks.is_block_call(self, target, name):
            return blocks.compile_block_call(self, node)
        macro = macros.MACROS.get(name)
        if macro is not None and args and args[0].kind == "ident" and macros.applies(name, args):
            return macro(self, node)
        namespace = target.dotted_name()
        if namespace is not None and self._is_namespace(namespace, f"{namespace}.{name}"):
            return self.call(GLOBALS[f"{namespace}.{name}"], node, [self.compile(arg) for arg in args])
        function = METHODS.get(name)
        if function is None:
            if namespace is not None and namespace.split(".")[0] not in (self.variables or ()):
                qualified = f"{namespace}.{name}"
                raise self.error(DslFunctionError, f"unknown function '{qualified}'", node,
                                 suggestion=nearest(qualified, _global_names()))  # fmt: skip
            raise positioned(DslFunctionError, f"unknown method '{name}'", self.text, name_offset,
                             suggestion=nearest(name, METHODS.keys()))  # fmt: skip
        receiver = self.compile(target)
        return self.call(function, node, [receiver] + [self.compile(arg) for arg in args], method=True)

    def _is_namespace(self, namespace: str, qualified: str) -> bool:
        if qualified not in GLOBALS or namespace.split(".")[0] in self.scope:
            return False
        return self.variables is None or namespace.split(".")[0] not in self.variables

    def call(self, function: Function, node: Node, args: list[Code], method: bool = False) -> Code:
        count = len(args) - 1 if method else len(args)
        if count not in function.arities:
            wanted = " or ".join(str(n) for n in sorted(function.arities))
            offset = node.args[3] if node.kind == "method" else node.start  # at the function's name
            raise positioned(DslArityError, f"'{function.name}' takes {wanted} argument(s), not {count}",
                             self.text, offset)  # fmt: skip
        impl, fns = function.impl, [arg.fn for arg in args]
        self.cost += function.cost - 1  # compile() counts the call's node itself
        if function.needs_budget:
            if len(fns) == 1:
                (a,) = fns
                code = self.fold(lambda env: impl(budget_of(env), a(env)), *args)
            else:
                code = self.fold(lambda env: impl(budget_of(env), *[f(env) for f in fns]), *args)
            if not code.constant:
                self.sized += 1
            return code
        if len(fns) == 1:
            (a,) = fns
            return self.fold(lambda env: impl(a(env)), *args)
        if len(fns) == 2:
            a, b = fns
            return self.fold(lambda env: impl(a(env), b(env)), *args)
        return self.fold(lambda env: impl(*[f(env) for f in fns]), *args)


def _list_builder(fns: list[Fn]) -> Fn:
    """A list literal's closure; short ones without the loop, which costs more than they do."""
    if len(fns) == 1:
        (a,) = fns
        return lambda env: [a(env)]
    if len(fns) == 2:
        a, b = fns
        return lambda env: [a(env), b(env)]
    if len(fns) == 3:
        a, b, c = fns
        return lambda env: [a(env), b(env), c(env)]
    return lambda env: [f(env) for f in fns]


def _present(value: Any) -> bool:
    """An optional list element or map value (`[?x]`, `{?k: x}`) is kept only when present."""
    if type(value) is not Optional:
        raise DslEvalError("an optional element must be an optional value", code="DSL_NO_MATCHING_OVERLOAD")
    return value.has_value


def _global_names() -> Iterable[str]:
    return [*GLOBALS.keys(), "has", "now"]
