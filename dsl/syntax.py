"""The syntax tree of an expression: what the parser builds and the compiler reads.

One `Node` class with a `kind` keeps the tree small and the compiler's dispatch a dictionary:

    kind          args
    literal       (value,)
    ident         (name,)                       `a`; a leading dot (`.a`) is dropped
    select        (operand, field)              `a.b`
    opt_select    (operand, field)              `a.?b`
    index         (operand, key)                `a[k]`
    opt_index     (operand, key)                `a[?k]`
    call          (name, args)                  `f(x)`
    method        (target, name, args, offset)  `x.f(y)`, also namespaced `math.abs(x)`; offset: of `f`
    list          (elements, optional_flags)    `[a, ?b]`
    map           (entries,)                    entries: tuple of (key, value, optional)
    not, neg      (operand,)
    add sub mul div mod eq ne lt le gt ge in and or    (left, right)
    cond          (condition, then, otherwise)

`start`/`end` are 0-based offsets of the node's text in the source; `depth` is the height of the
subtree, checked against `dsl.limits.DEPTH_MAX` as the tree is built.
"""

from __future__ import annotations

from typing import Any


class Node:
    __slots__ = ("args", "depth", "end", "kind", "start")

    def __init__(self, kind: str, args: tuple[Any, ...], start: int, end: int, depth: int) -> None:
        self.kind, self.args, self.start, self.end, self.depth = kind, args, start, end, depth

    def children(self) -> list[Node]:
        """The sub-expressions, in source order."""
        found: list[Node] = []
        for arg in self.args:
            if isinstance(arg, Node):
                found.append(arg)
            elif isinstance(arg, tuple):
                for item in arg:
                    if isinstance(item, Node):
                        found.append(item)
                    elif isinstance(item, tuple):
                        found.extend(part for part in item if isinstance(part, Node))
        return found

    def dotted_name(self) -> str | None:
        """`a.b.c` -> "a.b.c" when the node is a chain of plain selections on an identifier."""
        parts: list[str] = []
        node = self
        while node.kind == "select":
            parts.append(node.args[1])
            node = node.args[0]
        if node.kind != "ident":
            return None
        parts.append(node.args[0])
        return ".".join(reversed(parts))

    def __repr__(self) -> str:
        return f"Node({self.kind}, {self.args!r})"
