"""Errors of the rule language. Every class has a stable `code` that never changes once published.

    DslError                         DSL
    ├── DslSyntaxError               DSL_SYNTAX            the text is not CEL (or uses a reserved word)
    ├── DslNameError                 DSL_UNKNOWN_NAME      unknown top-level variable (with a suggestion)
    ├── DslFunctionError             DSL_UNKNOWN_FUNCTION  unknown function or method (with a suggestion)
    ├── DslArityError                DSL_ARITY             a known function called with the wrong arity
    ├── DslTypeError                 DSL_TYPE              a type error found at compile time
    ├── DslLimitError                DSL_LIMIT_<NAME>      a bound of dsl/limits.py was exceeded
    │                                                      (LENGTH, DEPTH at compile time, and any of the
    │                                                      others for a constant; COST, TIME, STRING,
    │                                                      BYTES, LIST, REGEX at evaluation time)
    └── DslEvalError                 DSL_EVAL              evaluation failed; `code` is refined per cause:
                                                           DSL_NO_SUCH_KEY, DSL_NO_MATCHING_OVERLOAD,
                                                           DSL_DIVIDE_BY_ZERO, DSL_OVERFLOW, DSL_RANGE,
                                                           DSL_INVALID_ARGUMENT, DSL_UNBOUND (a declared
                                                           variable with no binding)

Compile-time errors carry `line`, `column` (1-based), `offset` (0-based index into the source),
an `excerpt` (the source line with a caret under the column) and, for unknown names, a
`suggestion`. Evaluation errors carry the `offset`/`end` span of the sub-expression that failed
when it is known.
"""

from __future__ import annotations


class DslError(Exception):
    code = "DSL"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        line: int | None = None,
        column: int | None = None,
        offset: int | None = None,
        end: int | None = None,
        excerpt: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.line, self.column, self.offset, self.end = line, column, offset, end
        self.excerpt, self.suggestion = excerpt, suggestion

    def __str__(self) -> str:
        text = self.message
        if self.line is not None:
            text = f"{self.line}:{self.column}: {text}"
        if self.suggestion:
            text += f" (did you mean '{self.suggestion}'?)"
        if self.excerpt:
            text += "\n" + self.excerpt
        return text


class DslSyntaxError(DslError):
    code = "DSL_SYNTAX"


class DslNameError(DslError):
    code = "DSL_UNKNOWN_NAME"


class DslFunctionError(DslError):
    code = "DSL_UNKNOWN_FUNCTION"


class DslArityError(DslError):
    code = "DSL_ARITY"


class DslTypeError(DslError):
    code = "DSL_TYPE"


class DslLimitError(DslError):
    code = "DSL_LIMIT"


class DslEvalError(DslError):
    code = "DSL_EVAL"


SHOWN_CHARS_MAX = 60  # characters of a value an error message quotes


def shown(value: object) -> str:
    """A value as an error message quotes it: its repr, a long text cut to `SHOWN_CHARS_MAX`
    characters (a rule may look up a key of 100,000 characters, and messages are stored).

    >>> shown("x" * 100)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'…"
    """
    if isinstance(value, (str, bytes)) and len(value) > SHOWN_CHARS_MAX:
        return repr(value[:SHOWN_CHARS_MAX]) + "…"
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS_MAX + 2 else text[: SHOWN_CHARS_MAX + 2] + "…"
