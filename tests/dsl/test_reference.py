"""The language's reference for editors stays in step with the functions that exist."""

from __future__ import annotations

from dsl.functions import GLOBALS, METHODS
from dsl.reference import FUNCTIONS, MACROS, VARIABLES, lookup
from dsl.reference import METHODS as METHOD_DOCS
from engine.rules.compiler import VARIABLES as RULE_VARIABLES


def test_every_function_is_documented_and_nothing_else():
    assert set(FUNCTIONS) == set(GLOBALS)
    assert set(METHOD_DOCS) == set(METHODS)


def test_every_rule_variable_is_documented():
    assert set(VARIABLES) == set(RULE_VARIABLES)


def test_every_entry_has_a_signature_that_names_it_and_a_sentence():
    for table in (FUNCTIONS, METHOD_DOCS, MACROS, VARIABLES):
        for name, entry in table.items():
            short = name.rsplit(".", 1)[-1]
            assert all(short in signature for signature in entry.signatures), name
            assert entry.doc.endswith((".", ")")) and len(entry.doc) > 10, name


def test_lookup_prefers_the_style_it_is_asked_for():
    assert lookup("size", method=True).kind == "method"
    assert lookup("size").kind == "function"
    assert lookup("has").kind == "macro"
    assert lookup("event").kind == "variable"
    assert lookup("no_such_name") is None


def test_the_hover_text_shows_signatures_as_cel_then_the_doc():
    text = lookup("get").markdown()
    assert text.startswith("```cel\nget(map, key, default) -> value\n```")
    assert "default" in text.split("```")[-1]
