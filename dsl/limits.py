"""Every bound of the rule language, in one place (D10).

Compile-time bounds reject a text before it runs; evaluation-time bounds are charged against a
per-evaluation `Budget`, so no expression can hang or exhaust a worker. Exceeding any of them raises
`DslLimitError` with code `DSL_LIMIT_<NAME>`; the engine records a rule whose evaluation went over
its budget as SKIPPED_TIMEOUT.

The cost model (A74). A unit is about a tenth of a microsecond of one core's work: one node of the
syntax tree evaluated, one comprehension step, one element compared in Python. What an evaluation
does is charged as it does it:

* a comprehension charges, at every step, one unit and the static cost of its body
  (`Compiling.cost` in `dsl.compiling`): the body's nodes, with the functions that cost more
  than a node (parsing a timestamp, rounding a decimal) weighted by what they cost
  (`Function.cost`);
* work that grows with the size of a value is charged by that size, before it is done where the
  size is known: characters copied, scanned or produced (`text_units`), texts compared
  (`compare_units`), elements copied at C speed (`element_units`), elements visited one by one in
  Python (one unit each);
* `COST_MAX` units bound one evaluation; past them it stops with `DSL_LIMIT_COST`.

An expression with no comprehension, no `cel.bind` / `cel.block` and at most one operation whose
work grows with its operands evaluates every node at most once; it runs without a budget of its
own, and that one operation charges a budget made for it (the same `COST_MAX`). Every other
expression gets one budget per evaluation.

The wall-clock backstop (A75): a budget also carries a deadline (`TIME_MAX_S` after its first
reading of the clock, or the caller's earlier `DEADLINE`, a bindings key), read every
`CLOCK_EVERY` units charged; past it the evaluation stops with `DSL_LIMIT_TIME`. The cost model
keeps an evaluation within about `COST_MAX` tenths of a microsecond (20 ms); the clock catches
what a model cannot (a loaded machine, a garbage collection, an operation it prices too low).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sized
from typing import Any, TypeVar

from dsl.errors import DslLimitError

SOURCE_LENGTH_MAX = 4096  # characters of one expression
DEPTH_MAX = 96  # nesting of the syntax tree (evaluating closures recurses once per level)
COST_MAX = 200_000  # cost units per evaluation (a unit is about 0.1 µs of work; see above)
TIME_MAX_S = 0.05  # wall-clock seconds per evaluation, the backstop behind COST_MAX
CLOCK_EVERY = 2_000  # units charged between two readings of the clock
STRING_LENGTH_MAX = 100_000  # characters of a string an expression builds
BYTES_LENGTH_MAX = 100_000  # bytes of a bytes value an expression builds
LIST_LENGTH_MAX = 10_000  # elements of a list or map an expression builds
REGEX_INPUT_MAX = 10_000  # characters a regex may scan
REGEX_PATTERN_MAX = 1_000  # characters of a regex pattern
CHARS_PER_UNIT = 32  # characters (or bytes) copied, scanned or produced per unit
COMPARED_CHARS_PER_UNIT = 512  # characters compared per unit (equal lengths compare as memcmp)
ELEMENTS_PER_UNIT = 4  # list elements copied or compared at C speed per unit
# Below these sizes an operation costs about what its node costs, and charges nothing more.
SMALL_TEXT = 256  # characters or bytes
SMALL_LIST = 32  # elements

_Collection = TypeVar("_Collection", bound=Sized)
_clock = time.monotonic

BUDGET = object()  # the env key of the evaluation's `Budget`
# A bindings key a caller may set: the `time.monotonic()` value by which the evaluation must end
# (the engine gives every expression of one event the same one).
DEADLINE = object()


class Budget:
    """The cost an evaluation may still spend, and the time by which it must end.

    One is made per evaluation (`dsl.expression`). `deadline` is a `time.monotonic()` value; the
    earlier of it and `TIME_MAX_S` from the first reading of the clock applies. The clock is first
    read after `CLOCK_EVERY` units, so a cheap evaluation never reads it.

    >>> budget = Budget()
    >>> budget.charge(10)
    >>> budget.remaining
    199990
    """

    __slots__ = ("check_at", "deadline", "limit", "remaining", "total")

    def __init__(self, cost: int = COST_MAX, deadline: float | None = None) -> None:
        self.remaining = self.total = cost
        self.check_at = cost - CLOCK_EVERY if cost > CLOCK_EVERY else 0  # never below 0: 0 must be seen
        self.limit = deadline  # the caller's
        self.deadline: float | None = None  # set at the first reading of the clock

    def charge(self, units: int) -> None:
        """Spend `units`; raises `DslLimitError` when the cost or the time is spent."""
        self.remaining -= units
        if self.remaining < self.check_at:
            self.settle()

    def settle(self) -> None:
        """What `charge` and the comprehension loops call every `CLOCK_EVERY` units: refuse a spent
        budget, read the clock."""
        if self.remaining < 0:
            raise DslLimitError(f"evaluation exceeded its cost budget of {self.total} units", code="DSL_LIMIT_COST")
        now = _clock()
        if self.deadline is None:  # the first reading: the time limit starts now
            own = now + TIME_MAX_S
            self.deadline = own if self.limit is None else min(self.limit, own)
        if now > self.deadline:
            raise out_of_time()
        self.check_at = max(self.remaining - CLOCK_EVERY, 0)

    def ends_by(self) -> float | None:
        """The deadline as it stands: for a replay of the same evaluation."""
        return self.deadline if self.deadline is not None else self.limit


def budget_of(env: Mapping[Any, Any]) -> Budget:
    """The evaluation's budget, or, in an expression that runs without one (one costly operation
    and no loop), a budget for the one operation that asks."""
    budget = env.get(BUDGET)
    return budget if budget is not None else Budget(COST_MAX, env.get(DEADLINE))


def out_of_time() -> DslLimitError:
    return DslLimitError(f"evaluation ran out of time ({TIME_MAX_S * 1000:.0f} ms at most)", code="DSL_LIMIT_TIME")


def text_units(length: int) -> int:
    """The units of copying, scanning or producing `length` characters or bytes."""
    return length // CHARS_PER_UNIT + 1


def element_units(count: int) -> int:
    """The units of copying or comparing `count` list elements at C speed."""
    return count // ELEMENTS_PER_UNIT + 1


def compare_units(count: int, length: int) -> int:
    """The units of `count` comparisons of texts of up to `length` characters at C speed."""
    return count * (length // COMPARED_CHARS_PER_UNIT) + count // ELEMENTS_PER_UNIT + 1


def check_string(value: str) -> str:
    if len(value) > STRING_LENGTH_MAX:
        raise string_too_long(len(value))
    return value


def string_too_long(length: int) -> DslLimitError:
    return DslLimitError(
        f"string of {length} characters exceeds the limit of {STRING_LENGTH_MAX}", code="DSL_LIMIT_STRING"
    )


def check_string_length(length: int) -> None:
    """Refuse a string result before building it."""
    if length > STRING_LENGTH_MAX:
        raise string_too_long(length)


def check_bytes(value: bytes) -> bytes:
    check_bytes_length(len(value))
    return value


def check_bytes_length(length: int) -> None:
    if length > BYTES_LENGTH_MAX:
        raise DslLimitError(f"bytes of length {length} exceed the limit of {BYTES_LENGTH_MAX}", code="DSL_LIMIT_BYTES")


def check_length(value: _Collection) -> _Collection:
    check_count(len(value))
    return value


def check_count(count: int) -> None:
    """Refuse a list or map of `count` elements before building it."""
    if count > LIST_LENGTH_MAX:
        raise DslLimitError(
            f"collection of {count} elements exceeds the limit of {LIST_LENGTH_MAX}", code="DSL_LIMIT_LIST"
        )
