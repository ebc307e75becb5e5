"""Every literal form of CEL decodes to the right Python value, and bad ones are rejected."""

from __future__ import annotations

import pytest

from dsl import DslSyntaxError, UInt, compile_expression


def value(text: str) -> object:
    return compile_expression(text).evaluate({})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0), ("42", 42), ("0x1F", 31), ("0XfF", 255), ("-0x10", -16),
        ("-9223372036854775808", -(2**63)), ("9223372036854775807", 2**63 - 1),
        ("1.5", 1.5), (".5", 0.5), ("1e3", 1000.0), ("2.5E-1", 0.25), ("-2.3e+1", -23.0), ("0e+0", 0.0),
        ("'single'", "single"), ('"double"', "double"), ("'''tri'ple'''", "tri'ple"),
        ('"""multi\nline "q" """', 'multi\nline "q" '), ("r'\\n raw'", "\\n raw"), ('R"\\d+"', "\\d+"),
        ("'\\a\\b\\f\\n\\r\\t\\v\\\\\\'\\\"\\`\\?'", "\a\b\f\n\r\t\v\\'\"`?"),
        ("'\\x41\\X42\\101\\u00e9\\U0001F431'", "ABAé\U0001f431"),
        ("b'abc'", b"abc"), ("B'\\xff\\000'", b"\xff\x00"), ("b'\\377'", b"\xff"), ("b'ÿ'", "ÿ".encode()),
        ("br'\\x00'", b"\\x00"), ("Rb'\\n'", b"\\n"), ("b''''''", b""),
        ("true", True), ("false", False), ("null", None), ("[]", []), ("{}", {}),
        ("[1, 2, 3,]", [1, 2, 3]), ("{'k': 1, 'j': [true, null],}", {"k": 1, "j": [True, None]}),
    ],
)  # fmt: skip
def test_literal_values(text: str, expected: object) -> None:
    result = value(text)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"), [("0u", 0), ("42U", 42), ("0xFFu", 255), ("18446744073709551615u", 2**64 - 1)]
)
def test_uint_literals_are_uint(text: str, expected: int) -> None:
    result = value(text)
    assert type(result) is UInt and result == expected


@pytest.mark.parametrize(
    "text",
    ["9223372036854775808", "18446744073709551616u", "'\\q'", "b'\\u00ff'", "'\\uD800'", "'\\U00110000'",
     "'unterminated", "'line\nbreak'"],
)  # fmt: skip
def test_invalid_literals_are_syntax_errors(text: str) -> None:
    with pytest.raises(DslSyntaxError) as caught:
        compile_expression(text)
    assert caught.value.code == "DSL_SYNTAX" and caught.value.line is not None
