"""Every bound of the rule language, in one place (D10).

Compile-time bounds reject a text before it runs; evaluation-time bounds are charged against a
per-evaluation `Budget`, so no expression can hang or exhaust a worker. Exceeding any of them raises
`DslLimitError` with code `DSL_LIMIT_<NAME>`; the engine records a rule whose evaluation went over
its budget as SKIPPED_TIMEOUT.
"""

from __future__ import annotations

from collections.abc import Sized
from typing import TypeVar

from dsl.errors import DslLimitError

SOURCE_LENGTH_MAX = 4096  # characters of one expression
DEPTH_MAX = 96  # nesting of the syntax tree (evaluating closures recurses once per level)
COST_MAX = 100_000  # cost units per evaluation: one per comprehension step, per element built...
STRING_LENGTH_MAX = 100_000  # characters of a string an expression builds
BYTES_LENGTH_MAX = 100_000  # bytes of a bytes value an expression builds
LIST_LENGTH_MAX = 10_000  # elements of a list or map an expression builds
REGEX_INPUT_MAX = 10_000  # characters a regex may scan
REGEX_PATTERN_MAX = 1_000  # characters of a regex pattern

_Collection = TypeVar("_Collection", bound=Sized)


class Budget:
    """The cost an evaluation may still spend. One is made per `evaluate` call."""

    __slots__ = ("remaining",)

    def __init__(self, cost: int = COST_MAX) -> None:
        self.remaining = cost

    def charge(self, units: int) -> None:
        self.remaining -= units
        if self.remaining < 0:
            raise DslLimitError(f"evaluation exceeded its cost budget of {COST_MAX} units", code="DSL_LIMIT_COST")


def check_string(value: str) -> str:
    if len(value) > STRING_LENGTH_MAX:
        raise DslLimitError(
            f"string of {len(value)} characters exceeds the limit of {STRING_LENGTH_MAX}",
            code="DSL_LIMIT_STRING",
        )
    return value


def check_bytes(value: bytes) -> bytes:
    if len(value) > BYTES_LENGTH_MAX:
        raise DslLimitError(
            f"bytes of length {len(value)} exceed the limit of {BYTES_LENGTH_MAX}",
            code="DSL_LIMIT_BYTES",
        )
    return value


def check_length(value: _Collection) -> _Collection:
    if len(value) > LIST_LENGTH_MAX:
        raise DslLimitError(
            f"collection of {len(value)} elements exceeds the limit of {LIST_LENGTH_MAX}",
            code="DSL_LIMIT_LIST",
        )
    return value
