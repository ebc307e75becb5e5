"""The syntax tree helpers."""

from __future__ import annotations

from dsl import parse


def test_dotted_name() -> None:
    assert parse("a.b.c").dotted_name() == "a.b.c"
    assert parse("a").dotted_name() == "a"
    assert parse("a[0].b").dotted_name() is None
    assert parse("f().b").dotted_name() is None


def test_children_in_source_order() -> None:
    node = parse("{1: 2, ?3: x}")
    assert [child.args[0] for child in node.children()] == [1, 2, 3, "x"]
    assert [child.kind for child in parse("a ? b : c").children()] == ["ident", "ident", "ident"]
    assert parse("[1, 2]").depth == 2
