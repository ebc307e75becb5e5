"""`cel.block(slots, body)` and `cel.index(n)`: shared sub-expressions, as CEL optimizers write them.

    cel.block([event.items.filter(i, i.price > 20.0), size(cel.index(0))],
              cel.index(1) >= 2 && cel.index(1) <= 5)

`slots` is a list literal; `cel.index(n)` in a later slot or in the body is the value of slot `n`
of the innermost enclosing block (`n` an int literal, checked when the expression is compiled).
A slot is evaluated when it is first used and at most once per evaluation of the block, so an
unused slot costs nothing and a slot that fails fails only the expressions that use it. A slot sees
the names in scope where the block is written, never the variables of a comprehension in the body:
it is evaluated in a snapshot of the environment taken on entry to the block.

The optimizers' own spellings are accepted too (the parser turns them into the forms above):
`cel.@block`, `@indexN`, and `cel.iterVar(n, m)` / `cel.accuVar(n, m)`, the names of a
comprehension's variable and accumulator. A slot that mentions those names belongs to the
comprehension that binds them: it is compiled where it is used and evaluated there every time.
"""

from __future__ import annotations

from typing import Any

from dsl.compiling import MISSING, Compiling
from dsl.errors import DslLimitError, DslSyntaxError
from dsl.specialize import Code, Env, Fn
from dsl.syntax import Node

# Use-site slots are compiled once per use; this bounds what a chain of them can multiply into.
EXPANSIONS_MAX = 1_000
_HIDDEN_PREFIXES = ("@it:", "@ac:")


class _Block:
    """One `cel.block` being compiled: its environment keys and its slots. A slot is a closure
    (evaluated once, in the block's scope) or, for a use-site slot, its syntax tree."""

    __slots__ = ("expansions", "key", "scope_key", "slots", "visible")

    def __init__(self, start: int) -> None:
        self.key, self.scope_key = ("cel.block", start), ("cel.block", start, "scope")
        self.slots: list[Fn | Node] = []
        self.visible = 0  # slots that cel.index() may name from where the compiler is
        self.expansions = 0


def is_block_call(compiler: Compiling, target: Node, name: str) -> bool:
    """Whether `target.name(...)` is `cel.block(...)` or `cel.index(...)` and not a call on a
    variable or comprehension variable that happens to be named `cel`."""
    if name not in ("block", "index") or target.kind != "ident" or target.args[0] != "cel":
        return False
    return "cel" not in compiler.scope and "cel" not in (compiler.variables or ())


def compile_block_call(compiler: Compiling, node: Node) -> Code:
    if node.args[1] == "block":
        return _compile_block(compiler, node)
    return _compile_index(compiler, node)


def _compile_block(compiler: Compiling, node: Node) -> Code:
    args = node.args[2]
    if len(args) != 2 or args[0].kind != "list" or any(args[0].args[1]):
        raise compiler.error(DslSyntaxError, "block() is written cel.block([slot, ...], body)", node)
    block = _Block(node.start)
    compiler.blocks.append(block)
    try:
        for slot in args[0].args[0]:
            block.visible = len(block.slots)  # slot n sees slots 0..n-1 only
            use_site = _mentions_hidden(slot, block)
            block.slots.append(slot if use_site else compiler.compile(slot).fn)
        block.visible = len(block.slots)
        body = compiler.compile(args[1]).fn
    finally:
        compiler.blocks.pop()
    compiler.needs_env = True
    key, scope_key, count = block.key, block.scope_key, len(block.slots)

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


def _compile_index(compiler: Compiling, node: Node) -> Code:
    args = node.args[2]
    literal = args[0] if len(args) == 1 else None
    if literal is None or literal.kind != "literal" or type(literal.args[0]) is not int:
        raise compiler.error(DslSyntaxError, "index() is written cel.index(n) with an int literal n", node)
    if not compiler.blocks:
        raise compiler.error(DslSyntaxError, "cel.index() is only valid inside cel.block()", node)
    block: _Block = compiler.blocks[-1]
    position = literal.args[0]
    if not 0 <= position < block.visible:
        raise compiler.error(DslSyntaxError, f"cel.index({position}) names no earlier slot of its block", node)
    slot = block.slots[position]
    if isinstance(slot, Node):
        return _expand(compiler, block, position, slot, node)
    key, scope_key = block.key, block.scope_key
    compiler.note_read(-1)

    def lookup(env: Env) -> Any:
        values = env[key]
        value = values[position]
        if value is MISSING:
            value = values[position] = slot(env[scope_key])
        return value

    return Code(lookup)


def _expand(compiler: Compiling, block: _Block, position: int, slot: Node, use: Node) -> Code:
    """A use-site slot, compiled here, in the scope of the comprehension that uses it."""
    block.expansions += 1
    if block.expansions > EXPANSIONS_MAX:
        raise compiler.error(DslLimitError, f"cel.block expands its slots more than {EXPANSIONS_MAX} times",
                             use, code="DSL_LIMIT_DEPTH")  # fmt: skip
    visible, block.visible = block.visible, position
    try:
        return compiler.compile(slot)
    finally:
        block.visible = visible


def _mentions_hidden(node: Node, block: _Block) -> bool:
    """Whether a slot names a comprehension's hidden variable, itself or through an earlier slot."""
    pending = [node]
    while pending:
        current = pending.pop()
        if current.kind == "ident" and str(current.args[0]).startswith(_HIDDEN_PREFIXES):
            return True
        if current.kind == "method" and current.args[1] == "index" and _names_use_site_slot(current, block):
            return True
        pending.extend(current.children())
    return False


def _names_use_site_slot(node: Node, block: _Block) -> bool:
    target, _, args = node.args[:3]
    if target.kind != "ident" or target.args[0] != "cel" or len(args) != 1 or args[0].kind != "literal":
        return False
    position = args[0].args[0]
    return type(position) is int and 0 <= position < len(block.slots) and isinstance(block.slots[position], Node)
