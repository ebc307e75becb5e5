"""`cel.block(slots, body)` and `cel.index(n)`: shared sub-expressions, as CEL optimizers write them.

    cel.block([event.items.filter(i, i.price > 20.0), size(cel.index(0))],
              cel.index(1) >= 2 && cel.index(1) <= 5)

`slots` is a list literal; `cel.index(n)` in a later slot or in the body is the value of slot `n`
of the innermost enclosing block (`n` an int literal, checked when the expression is compiled).
A slot is evaluated when it is first used and at most once per evaluation of the block, so an
unused slot costs nothing and a slot that fails fails only the expressions that use it. A slot sees
the names in scope where the block is written, never the variables of a comprehension in the body:
it is evaluated in a snapshot of the environment taken on entry to the block.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dsl.errors import DslSyntaxError
from dsl.resolve import MISSING
from dsl.specialize import Code, Env, Fn
from dsl.syntax import Node

if TYPE_CHECKING:
    from dsl.compiler import Compiler


class _Block:
    """One `cel.block` being compiled: its environment key and the slots visible so far."""

    __slots__ = ("key", "fns")

    def __init__(self, key: tuple[str, int]) -> None:
        self.key = key
        self.fns: list[Fn] = []


def is_block_call(compiler: Compiler, target: Node, name: str) -> bool:
    """Whether `target.name(...)` is `cel.block(...)` or `cel.index(...)` and not a call on a
    variable or comprehension variable that happens to be named `cel`."""
    if name not in ("block", "index") or target.kind != "ident" or target.args[0] != "cel":
        return False
    return "cel" not in compiler.scope and "cel" not in (compiler.variables or ())


def compile_block_call(compiler: Compiler, node: Node) -> Code:
    if node.args[1] == "block":
        return _compile_block(compiler, node)
    return _compile_index(compiler, node)


def _compile_block(compiler: Compiler, node: Node) -> Code:
    args = node.args[2]
    if len(args) != 2 or args[0].kind != "list" or any(args[0].args[1]):
        raise compiler.error(DslSyntaxError, "block() is written cel.block([slot, ...], body)", node)
    block = _Block(("cel.block", node.start))
    compiler.blocks.append(block)
    try:
        for slot in args[0].args[0]:
            block.fns.append(compiler.compile(slot).fn)  # slot n sees slots 0..n-1 only
        body = compiler.compile(args[1]).fn
    finally:
        compiler.blocks.pop()
    compiler.needs_env = True
    key, scope_key, count = block.key, (*block.key, "scope"), len(block.fns)

    # A block node is never active twice at once (the tree is finite), so its keys need no saving.
    def run(env: Env) -> Any:
        env[key] = [MISSING] * count
        scope = env[scope_key] = dict(env)  # what the slots see: no variable the body binds later
        scope[scope_key] = scope  # a slot's own cel.index() calls evaluate in the same snapshot
        try:
            return body(env)
        finally:
            del env[key], env[scope_key], scope[scope_key]  # no reference cycle outlives the block

    return Code(run)


def _compile_index(compiler: Compiler, node: Node) -> Code:
    args = node.args[2]
    literal = args[0] if len(args) == 1 else None
    if literal is None or literal.kind != "literal" or type(literal.args[0]) is not int:
        raise compiler.error(DslSyntaxError, "index() is written cel.index(n) with an int literal n", node)
    if not compiler.blocks:
        raise compiler.error(DslSyntaxError, "cel.index() is only valid inside cel.block()", node)
    block, position = compiler.blocks[-1], literal.args[0]
    if not 0 <= position < len(block.fns):
        raise compiler.error(DslSyntaxError, f"cel.index({position}) names no earlier slot of its block", node)
    key, scope_key, slot = block.key, (*block.key, "scope"), block.fns[position]

    def lookup(env: Env) -> Any:
        values = env[key]
        value = values[position]
        if value is MISSING:
            value = values[position] = slot(env[scope_key])
        return value

    return Code(lookup)
