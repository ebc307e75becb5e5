"""Regular expressions of the rule language: RE2 syntax and linear-time matching.

`matches` runs on Google's RE2 (the `google-re2` binding) because CEL specifies RE2 syntax and
because RE2 never backtracks: a hostile pattern such as `(a+)+b` runs in time linear in its
input, so a rule cannot stall a worker. RE2 rejects what it cannot run in linear time
(backreferences, look-around) with `DSL_INVALID_ARGUMENT`.

Linear in the input is still the input times the program: a search costs up to about 6 ns per
character per instruction of the compiled program when RE2 falls back from its DFA, so a search
is charged `len(text) * program size / REGEX_STEPS_PER_UNIT` units before it runs, and a compiled
program has at most `REGEX_PROGRAM_MAX` instructions. Compiling is charged by the time it took.
Compiled patterns are cached (bounded LRU), and so are the patterns RE2 refuses, so a refused
pattern is not compiled again at every step of a loop. Pattern and input lengths are capped by
`REGEX_PATTERN_MAX` and `REGEX_INPUT_MAX` (`DSL_LIMIT_REGEX`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from threading import Lock

import re2

from dsl.errors import DslError, DslEvalError, DslLimitError, shown
from dsl.limits import REGEX_INPUT_MAX, REGEX_PATTERN_MAX, Budget

PATTERN_CACHE_SIZE = 512
REGEX_PROGRAM_MAX = 1_000  # instructions of a compiled pattern
REGEX_STEPS_PER_UNIT = 16  # (character, instruction) steps of a search per cost unit
_UNITS_PER_SECOND = 10_000_000  # a unit is 0.1 µs (dsl.limits)

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would otherwise print every rejected pattern on stderr
_OPTIONS.never_capture = True  # only "does it match" is asked, so skip submatch tracking
_OPTIONS.max_mem = 1 << 20  # a pattern too large for this fails to compile within a few ms

_cache: OrderedDict[str, re2._Regexp | DslError] = OrderedDict()
_cache_lock = Lock()


def compile_pattern(pattern: str, budget: Budget | None = None) -> re2._Regexp:
    """Compile (once) an RE2 pattern, charging `budget` for the time a compilation takes.
    Example: `compile_pattern("gr(a|e)y")`."""
    if len(pattern) > REGEX_PATTERN_MAX:
        raise DslLimitError(
            f"regex pattern of {len(pattern)} characters exceeds the limit of {REGEX_PATTERN_MAX}",
            code="DSL_LIMIT_REGEX",
        )
    with _cache_lock:
        found = _cache.get(pattern)
        if found is not None:
            _cache.move_to_end(pattern)
    if found is None:
        started = time.monotonic()
        found = _compile(pattern)
        with _cache_lock:
            _cache[pattern] = found
            if len(_cache) > PATTERN_CACHE_SIZE:
                _cache.popitem(last=False)
        if budget is not None:
            budget.charge(int((time.monotonic() - started) * _UNITS_PER_SECOND) + 1)
    if isinstance(found, DslError):
        raise type(found)(found.message, code=found.code)  # a fresh error: each carries its own span
    return found


def _compile(pattern: str) -> re2._Regexp | DslError:
    try:
        compiled = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args else "invalid pattern"
        return DslEvalError(f"invalid regular expression {shown(pattern)}: {reason}", code="DSL_INVALID_ARGUMENT")
    except UnicodeEncodeError:
        return DslEvalError("regular expression contains an unpaired surrogate", code="DSL_INVALID_ARGUMENT")
    if compiled.programsize > REGEX_PROGRAM_MAX:
        return DslLimitError(
            f"regex {shown(pattern)} compiles to {compiled.programsize} instructions; the limit is {REGEX_PROGRAM_MAX}",
            code="DSL_LIMIT_REGEX",
        )
    return compiled


def regex_matches(text: str, pattern: str, budget: Budget | None = None) -> bool:
    """Whether `pattern` matches anywhere in `text` (unanchored, as CEL's `matches`).

    Example: `regex_matches("grey", "gr(a|e)y")` is True.
    """
    if len(text) > REGEX_INPUT_MAX:
        raise DslLimitError(
            f"regex input of {len(text)} characters exceeds the limit of {REGEX_INPUT_MAX}",
            code="DSL_LIMIT_REGEX",
        )
    budget = budget if budget is not None else Budget()
    compiled = compile_pattern(pattern, budget)
    budget.charge(len(text) * compiled.programsize // REGEX_STEPS_PER_UNIT + 1)
    try:
        return compiled.search(text) is not None
    except UnicodeEncodeError as exc:
        raise DslEvalError(
            "string contains an unpaired surrogate and cannot be matched",
            code="DSL_INVALID_ARGUMENT",
        ) from exc
