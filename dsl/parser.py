"""Text to syntax tree. The Lark LALR parser is built once, at import, from `dsl/grammar.lark`.

    >>> parse("event.amount > 10.0").kind
    'gt'

Every failure is a `DslError` with a position: `DslSyntaxError` (not CEL, a reserved word, a bad
literal) or `DslLimitError` (`DSL_LIMIT_LENGTH`, `DSL_LIMIT_DEPTH`).

The parser builds Lark's tree (with `propagate_positions`) and a non-recursive transformer turns
it into `Node`s, rather than running the transformer inside the parser: only the tree carries the
source span of every rule, which tracing and error carets need, and a non-recursive pass cannot
overflow Python's stack on hostile nesting before the depth limit rejects it. Parsing happens
once, when an expression is compiled; evaluation never sees the tree.
"""

from __future__ import annotations

from typing import Any, cast

from lark import Lark, Token, Transformer_NonRecursive, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from dsl import literals
from dsl.errors import DslError, DslLimitError, DslSyntaxError
from dsl.limits import DEPTH_MAX, SOURCE_LENGTH_MAX
from dsl.syntax import Node

RESERVED = frozenset(
    [
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
    ]
)

_PARSER = Lark.open(
    "grammar.lark",
    rel_to=__file__,
    parser="lalr",
    lexer="contextual",
    strict=False,  # strict mode needs the optional `interegular` package; collisions are tested instead
    propagate_positions=True,
    maybe_placeholders=False,
    cache=True,
)
_DISPLAY = {t.name: repr(t.pattern.value) for t in _PARSER.terminals if t.pattern.type == "str"}
_DISPLAY.update(IDENT="an identifier", INT="a number", UINT="a number", DOUBLE="a number",
                STRING="a string", RAW_STRING="a string", IN="'in'", QUOTED_FIELD="a field name",
                HIDDEN_IDENT="an identifier",
                **{"$END": "the end of the expression"})  # fmt: skip


def excerpt(text: str, offset: int) -> tuple[int, int, str]:
    """(line, column, the source line with a caret under the column) for a 0-based offset."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    source_line = text[line_start : len(text) if line_end < 0 else line_end]
    column = offset - line_start + 1
    return line, column, f"{source_line}\n{' ' * (column - 1)}^"


def positioned(error_class: type[DslError], message: str, text: str, offset: int, **extra: Any) -> DslError:
    line, column, caret = excerpt(text, offset)
    return error_class(message, line=line, column=column, offset=offset, excerpt=caret, **extra)


def parse(text: str) -> Node:
    """Parse one expression into its syntax tree, or raise a positioned `DslError`."""
    if not isinstance(text, str):
        raise DslSyntaxError(f"an expression must be a string, not {type(text).__name__}")
    if len(text) > SOURCE_LENGTH_MAX:
        raise positioned(
            DslLimitError,
            f"expression of {len(text)} characters exceeds the limit of {SOURCE_LENGTH_MAX}",
            text,
            SOURCE_LENGTH_MAX,
            code="DSL_LIMIT_LENGTH",
        )
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None
    try:
        return _Builder(text).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, DslError):
            raise exc.orig_exc from None
        raise


def _syntax_error(exc: UnexpectedInput, text: str) -> DslError:
    if isinstance(exc, UnexpectedCharacters):
        # Lark declares `pos_in_stream` None on the base class; the lexer's error sets the offset.
        offset = cast(int, exc.pos_in_stream)
        message = f"unexpected character {text[offset]!r}"
    elif isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        offset = _start(exc.token)
        message = f"unexpected {str(exc.token)!r}"
    else:  # the text ended early (UnexpectedEOF, or the parser's $END token)
        offset = len(text)
        message = "unexpected end of the expression"
    expected = sorted({_DISPLAY.get(name, name) for name in (getattr(exc, "expected", None) or ())})
    if expected and len(expected) <= 8:
        message += f"; expected {', '.join(expected)}"
    return positioned(DslSyntaxError, message, text, offset)


def _start(token: Token) -> int:
    """Where a token begins in the text (Lark types the position optional; its lexer always sets it)."""
    assert token.start_pos is not None
    return token.start_pos


def _end(token: Token) -> int:
    assert token.end_pos is not None
    return token.end_pos


def _span(meta: Any, children: tuple[Any, ...]) -> tuple[int, int]:
    if not getattr(meta, "empty", True):
        return meta.start_pos, meta.end_pos
    starts = [c.start if isinstance(c, Node) else c.start_pos for c in children]
    ends = [c.end if isinstance(c, Node) else c.end_pos for c in children]
    return min(starts), max(ends)


@v_args(meta=True, inline=True)
class _Builder(Transformer_NonRecursive):
    """Turns Lark's parse tree into `Node`s, checking names, literals and depth on the way."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def _node(self, kind: str, meta: Any, args: tuple[Any, ...], *parts: Any) -> Node:
        start, end = _span(meta, parts)
        depth = 1 + max((c.depth for c in _nodes_of(args)), default=0)
        if depth > DEPTH_MAX:
            raise positioned(
                DslLimitError,
                f"expression nests deeper than {DEPTH_MAX} levels",
                self.text,
                start,
                code="DSL_LIMIT_DEPTH",
            )
        return Node(kind, args, start, end, depth)

    def _name(self, token: Token) -> str:
        name = str(token)
        if name in RESERVED:
            raise positioned(DslSyntaxError, f"'{name}' is a reserved word", self.text, _start(token))
        return name

    def _literal(self, meta: Any, token: Token, decode: Any) -> Node:
        try:
            value = decode(str(token))
        except literals.LiteralError as exc:
            raise positioned(DslSyntaxError, str(exc), self.text, _start(token)) from None
        return Node("literal", (value,), _start(token), _end(token), 1)

    def int_(self, meta: Any, token: Token) -> Node:
        return self._literal(meta, token, literals.int_literal)

    def uint_(self, meta: Any, token: Token) -> Node:
        return self._literal(meta, token, literals.uint_literal)

    def double_(self, meta: Any, token: Token) -> Node:
        return self._literal(meta, token, literals.double_literal)

    def string_(self, meta: Any, token: Token) -> Node:
        return self._literal(meta, token, literals.string_literal)

    def raw_string_(self, meta: Any, token: Token) -> Node:
        return self._literal(meta, token, literals.raw_string_literal)

    def true_(self, meta: Any) -> Node:
        return Node("literal", (True,), meta.start_pos, meta.end_pos, 1)

    def false_(self, meta: Any) -> Node:
        return Node("literal", (False,), meta.start_pos, meta.end_pos, 1)

    def null_(self, meta: Any) -> Node:
        return Node("literal", (None,), meta.start_pos, meta.end_pos, 1)

    def ident(self, meta: Any, token: Token) -> Node:
        return Node("ident", (self._name(token),), _start(token), _end(token), 1)

    root_ident = ident

    def field(self, meta: Any, token: Token) -> str:
        # Reserved words are fine as field and method names: only bare identifiers are restricted.
        return token[1:-1] if token.type == "QUOTED_FIELD" else str(token)

    def select(self, meta: Any, operand: Node, field: str) -> Node:
        return self._node("select", meta, (operand, field), operand)

    def opt_select(self, meta: Any, operand: Node, field: str) -> Node:
        return self._node("opt_select", meta, (operand, field), operand)

    def index(self, meta: Any, operand: Node, key: Node) -> Node:
        return self._node("index", meta, (operand, key), operand, key)

    def opt_index(self, meta: Any, operand: Node, key: Node) -> Node:
        return self._node("opt_index", meta, (operand, key), operand, key)

    def args(self, meta: Any, *items: Node) -> tuple[Node, ...]:
        return items

    def call(self, meta: Any, name: Token, args: tuple[Node, ...] = ()) -> Node:
        return self._node("call", meta, (self._name(name), args), name)

    root_call = call

    def method(self, meta: Any, target: Node, name: Token, args: tuple[Node, ...] = ()) -> Node:
        if str(name) in _HIDDEN_VARIABLES and _is_cel(target):
            return self._hidden_variable(meta, name, args, target)
        return self._node("method", meta, (target, str(name), args, _start(name)), target)

    def hidden_method(self, meta: Any, target: Node, name: Token, args: tuple[Node, ...] = ()) -> Node:
        if str(name) != "@block" or not _is_cel(target):
            raise positioned(DslSyntaxError, f"unexpected '{name}': '@' names only cel.@block and @index0, "
                             "@index1, ...", self.text, _start(name))  # fmt: skip
        return self._node("method", meta, (target, "block", args, _start(name)), target)

    def hidden_ident(self, meta: Any, token: Token) -> Node:
        """`@indexN` is `cel.index(N)`."""
        digits = str(token).removeprefix("@index")
        if not (digits.isdecimal() and digits.isascii()) or (digits != "0" and digits.startswith("0")):
            raise positioned(DslSyntaxError, f"unexpected '{token}': '@' names only cel.@block and @index0, "
                             "@index1, ...", self.text, _start(token))  # fmt: skip
        start, end = _start(token), _end(token)
        cel = Node("ident", ("cel",), start, start, 1)
        position = Node("literal", (int(digits),), start, end, 1)
        return Node("method", (cel, "index", (position,), start), start, end, 2)

    def _hidden_variable(self, meta: Any, name: Token, args: tuple[Node, ...], target: Node) -> Node:
        """`cel.iterVar(n, m)` and `cel.accuVar(n, m)`: the names optimizers give the variable and the
        accumulator of a comprehension (`@it:n:m`, `@ac:n:m`), which no identifier can spell."""
        numbers = [arg.args[0] for arg in args if arg.kind == "literal" and type(arg.args[0]) is int]
        if len(args) != 2 or len(numbers) != 2 or min(numbers) < 0:
            raise positioned(DslSyntaxError, f"cel.{name}() takes two non-negative int literals",
                             self.text, _start(name))  # fmt: skip
        start, end = _span(meta, (target,))
        return Node("ident", (f"{_HIDDEN_VARIABLES[str(name)]}:{numbers[0]}:{numbers[1]}",), start, end, 1)

    def item(self, meta: Any, value: Node) -> tuple[Node, bool]:
        return (value, False)

    def opt_item(self, meta: Any, value: Node) -> tuple[Node, bool]:
        return (value, True)

    def list_items(self, meta: Any, *items: tuple[Node, bool]) -> tuple[tuple[Node, bool], ...]:
        return items

    def list_(self, meta: Any, items: tuple[tuple[Node, bool], ...] = ()) -> Node:
        elements = tuple(value for value, _ in items)
        flags = tuple(optional for _, optional in items)
        return self._node("list", meta, (elements, flags))

    def entry(self, meta: Any, key: Node, value: Node) -> tuple[Node, Node, bool]:
        return (key, value, False)

    def opt_entry(self, meta: Any, key: Node, value: Node) -> tuple[Node, Node, bool]:
        return (key, value, True)

    def map_entries(self, meta: Any, *entries: tuple[Node, Node, bool]) -> tuple:
        return entries

    def map_(self, meta: Any, entries: tuple = ()) -> Node:
        return self._node("map", meta, (entries,))

    def not_(self, meta: Any, operand: Node) -> Node:
        return self._node("not", meta, (operand,), operand)

    def neg(self, meta: Any, operand: Node) -> Node:
        if operand.kind == "literal" and type(operand.args[0]) in (int, float):
            # `-9223372036854775808` is one literal: its positive half alone would overflow.
            start, end = _span(meta, (operand,))
            return Node("literal", (-operand.args[0],), start, end, 1)
        return self._node("neg", meta, (operand,), operand)

    def cond(self, meta: Any, condition: Node, then: Node, otherwise: Node) -> Node:
        return self._node("cond", meta, (condition, then, otherwise), condition, otherwise)

    def in_(self, meta: Any, left: Node, _keyword: Token, right: Node) -> Node:
        return self._node("in", meta, (left, right), left, right)


def _binary(kind: str) -> Any:
    def build(self: _Builder, meta: Any, left: Node, right: Node) -> Node:
        return self._node(kind, meta, (left, right), left, right)

    build.__name__ = kind
    return build


for _kind in ("or", "and", "eq", "ne", "lt", "le", "gt", "ge", "add", "sub", "mul", "div", "mod"):
    _rule = _kind + "_" if _kind in ("or", "and") else _kind
    setattr(_Builder, _rule, v_args(meta=True, inline=True)(_binary(_kind)))


_HIDDEN_VARIABLES = {"iterVar": "@it", "accuVar": "@ac"}


def _is_cel(node: Node) -> bool:
    return node.kind == "ident" and node.args[0] == "cel"


def _nodes_of(args: tuple[Any, ...]) -> list[Node]:
    return Node("", args, 0, 0, 0).children()
