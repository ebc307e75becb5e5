"""The parser: the tree it builds, positioned syntax errors, reserved words and the size limits."""

from __future__ import annotations

import pytest

from dsl import DslLimitError, DslSyntaxError, parse
from dsl.limits import DEPTH_MAX, SOURCE_LENGTH_MAX
from dsl.syntax import Node


def shape(node: Node) -> object:
    """A compact nested form of a tree for snapshots: (kind, args...) with positions."""

    def part(arg: object) -> object:
        if isinstance(arg, Node):
            return shape(arg)
        if isinstance(arg, tuple):
            return [part(item) for item in arg]
        return arg

    return [f"{node.kind}@{node.start}:{node.end}", *[part(arg) for arg in node.args]]


@pytest.mark.parametrize(
    "text",
    [
        "1 + 2 * 3 - -x",
        "a ? b : c ? d : e",
        "a || b && c == d",
        "x in [1, ?y] && {'k': v, ?'o': w}.k > 0",
        "event.items.exists(i, i.sku == 'A')",
        "math.greatest(1, 2).foo[0]",
        "m.?f[?0]",
        ".root.name",
        "{'a-b': 1}.`a-b`",
        "a.if && b.while()",
    ],
)
def test_tree_shape(text: str, snapshot) -> None:
    assert shape(parse(text)) == snapshot


def test_precedence_and_associativity() -> None:
    assert shape(parse("1 - 2 - 3"))[0].startswith("sub") and shape(parse("1 - 2 - 3"))[1][0].startswith("sub")
    assert parse("a ? b : c ? d : e").args[2].kind == "cond"
    assert parse("!a == b").kind == "eq"
    assert parse("a < b == c").args[0].kind == "lt"


def test_identifiers_that_start_like_keywords() -> None:
    assert parse("index").args == ("index",)
    assert parse("r").args == ("r",)
    assert parse("inside in list").kind == "in"
    assert parse("nullable || trueish").kind == "or"


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [("1 +", 1, 4), ("(", 1, 2), ("1 ~ 2", 1, 3), ("a.\n  .b", 2, 3), ("f(1,, 2)", 1, 5), ("[1 2]", 1, 4)],
)
def test_syntax_errors_are_positioned(text: str, line: int, column: int) -> None:
    with pytest.raises(DslSyntaxError) as caught:
        parse(text)
    error = caught.value
    assert (error.code, error.line, error.column) == ("DSL_SYNTAX", line, column)
    source_line, caret = error.excerpt.split("\n")
    assert source_line == text.split("\n")[line - 1] and caret == " " * (column - 1) + "^"


def test_syntax_error_message(snapshot) -> None:
    with pytest.raises(DslSyntaxError) as caught:
        parse("event.amount >")
    assert str(caught.value) == snapshot


@pytest.mark.parametrize("word", ["if", "else", "for", "var", "while", "package", "namespace", "let", "void"])
def test_reserved_words_are_rejected_as_identifiers(word: str) -> None:
    with pytest.raises(DslSyntaxError, match="reserved word"):
        parse(f"{word} == 1")
    with pytest.raises(DslSyntaxError, match="reserved word"):
        parse(f"{word}(1)")


def test_reserved_words_are_fine_as_fields_and_methods() -> None:
    assert parse("a.if").args[1] == "if"
    assert parse("a.for()").args[1] == "for"


def test_source_length_limit() -> None:
    parse("1" + " " * (SOURCE_LENGTH_MAX - 1))
    with pytest.raises(DslLimitError) as caught:
        parse("1" + " " * SOURCE_LENGTH_MAX)
    assert caught.value.code == "DSL_LIMIT_LENGTH"


def test_depth_limit() -> None:
    parse("!" * (DEPTH_MAX - 1) + "true")
    with pytest.raises(DslLimitError) as caught:
        parse("!" * DEPTH_MAX + "true")
    assert caught.value.code == "DSL_LIMIT_DEPTH" and caught.value.line == 1
    with pytest.raises(DslLimitError):
        parse("[" * 1000 + "]" * 1000)


def test_parentheses_do_not_count_as_depth() -> None:
    assert parse("(" * 500 + "1" + ")" * 500).kind == "literal"


def test_only_text_is_parsed() -> None:
    with pytest.raises(DslSyntaxError):
        parse(42)  # type: ignore[arg-type]


def test_the_optimizer_spellings_of_cel_block_are_its_source_forms():
    def plain(node: object) -> object:  # the tree without positions
        if isinstance(node, Node):
            return [node.kind, *[plain(arg) for arg in node.args if not isinstance(arg, int) or node.kind == "literal"]]
        if isinstance(node, tuple):
            return [plain(item) for item in node]
        return node

    assert plain(parse("cel.@block([1], @index0 + 2)")) == plain(parse("cel.block([1], cel.index(0) + 2)"))
    index = parse("@index12")
    assert (index.kind, index.args[1], index.args[2][0].args) == ("method", "index", (12,))


def test_iter_and_accu_vars_are_identifiers_no_source_can_spell():
    assert parse("cel.iterVar(0, 1)").args == ("@it:0:1",)
    assert parse("cel.accuVar(2, 0)").args == ("@ac:2:0",)
    node = parse("[1].exists(cel.iterVar(0, 0), cel.iterVar(0, 0) > 0)")
    assert node.args[2][0].kind == "ident" and node.args[2][0].args == ("@it:0:0",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("@foo", "'@' names only cel.@block and @index0"),
        ("@index", "'@' names only cel.@block"),
        ("@index01", "'@' names only cel.@block"),
        ("x.@block([1], 2)", "'@' names only cel.@block"),
        ("cel.@index(0)", "'@' names only cel.@block"),
        ("cel.iterVar(0)", "cel.iterVar() takes two non-negative int literals"),
        ("cel.accuVar(0, -1)", "cel.accuVar() takes two non-negative int literals"),
        ("cel.iterVar(0, 'a')", "cel.iterVar() takes two non-negative int literals"),
    ],
)
def test_other_hidden_names_are_syntax_errors(text, message):
    with pytest.raises(DslSyntaxError) as caught:
        parse(text)
    assert message in str(caught.value)
