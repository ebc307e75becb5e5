"""Errors of the engine layer. Every class has a stable `code`; tests assert codes, not text.

    EngineError                      engine
    ├── RuleFileError                rule_file        a bundle file is wrong (carries file/line/column)
    ├── EvaluationError              evaluation       an action could not be resolved or applied
    ├── LedgerInvariantError         ledger_invariant a ledger invariant would be broken
    └── LimitExceeded                limit_<name>     a bound of engine/limits.py was exceeded

Subclasses and instances may refine `code` (for example `invalid_scale`, `insufficient_funds`);
once published a code never changes. Foreign exceptions are translated at the boundary that
meets them, keeping the cause (`raise ... from exc`).
"""

from __future__ import annotations

from typing import Any


class EngineError(Exception):
    code = "engine"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def __str__(self) -> str:
        return self.message


class RuleFileError(EngineError):
    code = "rule_file"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message, code=code, **details)
        self.file, self.line, self.column = file, line, column


class EvaluationError(EngineError):
    code = "evaluation"


class LedgerInvariantError(EngineError):
    code = "ledger_invariant"


class LimitExceeded(EngineError):
    code = "limit"
