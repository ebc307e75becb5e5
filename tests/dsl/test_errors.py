"""The error hierarchy: stable codes, and the text a user sees."""

from __future__ import annotations

from dsl.errors import (
    DslArityError,
    DslError,
    DslEvalError,
    DslFunctionError,
    DslLimitError,
    DslNameError,
    DslSyntaxError,
    DslTypeError,
)


def test_stable_codes() -> None:
    classes = (DslError, DslSyntaxError, DslNameError, DslFunctionError, DslArityError, DslTypeError,
               DslLimitError, DslEvalError)  # fmt: skip
    assert [c.code for c in classes] == [
        "DSL", "DSL_SYNTAX", "DSL_UNKNOWN_NAME", "DSL_UNKNOWN_FUNCTION", "DSL_ARITY", "DSL_TYPE", "DSL_LIMIT",
        "DSL_EVAL"]  # fmt: skip
    assert all(issubclass(c, DslError) for c in classes)


def test_refined_code_and_text() -> None:
    error = DslNameError("unknown variable 'evnt'", line=1, column=1, offset=0, excerpt="evnt\n^", suggestion="event")
    assert str(error) == "1:1: unknown variable 'evnt' (did you mean 'event'?)\nevnt\n^"
    assert DslEvalError("gone", code="DSL_NO_SUCH_KEY").code == "DSL_NO_SUCH_KEY"
    assert str(DslEvalError("plain")) == "plain"
