"""Regular expressions of the rule language: RE2 syntax and linear-time matching.

`matches` runs on Google's RE2 (the `google-re2` binding) because CEL specifies RE2 syntax and
because RE2 never backtracks: a hostile pattern such as `(a+)+b` runs in time linear in its
input, so a rule cannot stall a worker. RE2 rejects what it cannot run in linear time
(backreferences, look-around) with `DSL_INVALID_ARGUMENT`.

Compiled patterns are cached (bounded LRU); pattern and input lengths are capped by
`REGEX_PATTERN_MAX` and `REGEX_INPUT_MAX` (`DSL_LIMIT_REGEX`).
"""

from __future__ import annotations

from functools import lru_cache

import re2

from dsl.errors import DslEvalError, DslLimitError
from dsl.limits import REGEX_INPUT_MAX, REGEX_PATTERN_MAX

PATTERN_CACHE_SIZE = 512

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would otherwise print every rejected pattern on stderr
_OPTIONS.never_capture = True  # only "does it match" is asked, so skip submatch tracking


@lru_cache(maxsize=PATTERN_CACHE_SIZE)
def compile_pattern(pattern: str) -> re2._Regexp:
    """Compile (once) an RE2 pattern. Example: `compile_pattern("gr(a|e)y")`."""
    if len(pattern) > REGEX_PATTERN_MAX:
        raise DslLimitError(
            f"regex pattern of {len(pattern)} characters exceeds the limit of {REGEX_PATTERN_MAX}",
            code="DSL_LIMIT_REGEX",
        )
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args else "invalid pattern"
        raise DslEvalError(f"invalid regular expression {pattern!r}: {reason}", code="DSL_INVALID_ARGUMENT") from exc
    except UnicodeEncodeError as exc:
        raise DslEvalError("regular expression contains an unpaired surrogate", code="DSL_INVALID_ARGUMENT") from exc


def regex_matches(text: str, pattern: str) -> bool:
    """Whether `pattern` matches anywhere in `text` (unanchored, as CEL's `matches`).

    Example: `regex_matches("grey", "gr(a|e)y")` is True.
    """
    if len(text) > REGEX_INPUT_MAX:
        raise DslLimitError(
            f"regex input of {len(text)} characters exceeds the limit of {REGEX_INPUT_MAX}",
            code="DSL_LIMIT_REGEX",
        )
    compiled = compile_pattern(pattern)
    try:
        return compiled.search(text) is not None
    except UnicodeEncodeError as exc:
        raise DslEvalError(
            "string contains an unpaired surrogate and cannot be matched",
            code="DSL_INVALID_ARGUMENT",
        ) from exc
