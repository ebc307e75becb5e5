"""Name resolution: what an identifier or a chain `a.b.c` on one refers to.

In order: a comprehension variable in scope; the longest declared variable name that is a prefix
of the chain (a binding `"a.b"` answers `a.b.c` as `a.b` then `.c`, as CEL's qualified names
do); a type name (`int`, `string`, ...). With `variables=None` the same search happens at
evaluation time against the bindings, and an unbound name is an evaluation error.
"""

from __future__ import annotations

from typing import Any

from dsl import operators
from dsl.compiling import MISSING, Compiling
from dsl.errors import DslEvalError, DslNameError
from dsl.specialize import Code, Env, Fn, constant, selector
from dsl.suggest import nearest
from dsl.syntax import Node
from dsl.values import TYPE_NAMES, CelType


def unbound(name: str) -> DslEvalError:
    return DslEvalError(f"undeclared reference to '{name}': no value is bound to it", code="DSL_UNBOUND")


def resolve_name(compiler: Compiling, node: Node) -> Code:
    dotted = node.dotted_name()
    assert dotted is not None, "resolve_name is only called on identifier chains"
    parts = dotted.split(".")
    scope = compiler.scope
    if parts[0] in scope:
        compiler.note_read(len(scope) - 1 - scope[::-1].index(parts[0]))  # the innermost of the name
        base_length, base = 1, _lookup(parts[0])
    elif compiler.variables is None:
        compiler.reads.add(parts[0])
        compiler.note_read(-1)
        return Code(_dynamic(parts))
    else:
        base_length, base_code = _static_base(compiler, node, parts)
        if not base_code.constant:
            compiler.note_read(-1)
        if base_code.constant:
            fields = parts[base_length:]
            return compiler.fold(_chain(base_code.fn, fields), base_code) if fields else base_code
        base = base_code.fn
    fields = parts[base_length:]
    if fields and compiler.tracer is not None:
        # Traced: every prefix of the chain is a sub-expression of its own with its own step.
        operand = compiler.compile(node.args[0])
        return Code(selector(operand.fn, fields[-1]))
    if base_length != 1:
        return Code(_chain(base, fields) if fields else base)
    general = _chain(base, fields) if fields else base
    return Code(_fused(parts[0], general, fields), path=tuple(parts) if len(fields) <= 2 else None)


def _static_base(compiler: Compiling, node: Node, parts: list[str]) -> tuple[int, Code]:
    variables = compiler.variables or frozenset()
    for length in range(len(parts), 0, -1):
        name = ".".join(parts[:length])
        if name in variables:
            compiler.reads.add(name)
            return length, Code(_binding(name))
    for length in range(len(parts), 0, -1):
        name = ".".join(parts[:length])
        if name in TYPE_NAMES:
            return length, constant(CelType(name))
    raise compiler.error(DslNameError, f"unknown variable '{parts[0]}'", node,
                         suggestion=nearest(parts[0], variables))  # fmt: skip


def _lookup(name: str) -> Fn:
    return lambda env: env[name]


def _binding(name: str) -> Fn:
    def lookup(env: Env) -> Any:
        try:
            return env[name]
        except KeyError:
            raise unbound(name) from None

    return lookup


def _chain(base: Fn, fields: list[str]) -> Fn:
    def select(env: Env) -> Any:
        value = base(env)
        for field in fields:
            value = operators.select(value, field)
        return value

    return select


def _fused(name: str, general: Fn, fields: list[str]) -> Fn:
    """`event.amount` as one closure of plain subscripts; any surprise (a missing key, a value that
    is not a map) takes the general path, which raises the precise error."""
    if not fields:
        return general
    if len(fields) == 1:
        (f1,) = fields

        def select1(env: Env) -> Any:
            try:
                return env[name][f1]
            except (KeyError, TypeError, IndexError):
                return general(env)

        return select1
    if len(fields) == 2:
        f1, f2 = fields

        def select2(env: Env) -> Any:
            try:
                return env[name][f1][f2]
            except (KeyError, TypeError, IndexError):
                return general(env)

        return select2
    if len(fields) == 3:
        f1, f2, f3 = fields

        def select3(env: Env) -> Any:
            try:
                return env[name][f1][f2][f3]
            except (KeyError, TypeError, IndexError):
                return general(env)

        return select3
    return general


def _dynamic(parts: list[str]) -> Fn:
    candidates = [(".".join(parts[:n]), parts[n:]) for n in range(len(parts), 0, -1)]
    type_name = next((name for name, _ in candidates if name in TYPE_NAMES), None)

    def resolve(env: Env) -> Any:
        for name, fields in candidates:
            value = env.get(name, MISSING)
            if value is not MISSING:
                for field in fields:
                    value = operators.select(value, field)
                return value
        if type_name is not None:
            return CelType(type_name)
        raise unbound(parts[0])

    if len(parts) == 1:
        name = parts[0]

        def resolve_one(env: Env) -> Any:
            try:
                return env[name]
            except KeyError:
                return resolve(env)

        return resolve_one
    return resolve
