"""Go duration strings ("24h", "720h", "1h30m", "1.5h", "300ms"), as Scrip's rule fields write them.

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)

The grammar is Go's `time.ParseDuration`: an optional sign, then one or more decimal numbers each
followed by a unit (ns, us, µs, ms, s, m, h). "0" alone is zero. Anything else raises
`DurationError` (code `invalid_duration`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache

from engine.errors import EngineError

_UNIT_MICROSECONDS = {
    "ns": Decimal("0.001"),
    "us": Decimal(1),
    "µs": Decimal(1),
    "μs": Decimal(1),
    "ms": Decimal(1_000),
    "s": Decimal(1_000_000),
    "m": Decimal(60_000_000),
    "h": Decimal(3_600_000_000),
}
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_DURATION_TEXT_MAX = 64
# Go's bound, a signed 64-bit count of nanoseconds as for CEL durations (A3), not timedelta's wider one.
_MAX_MICROSECONDS = Decimal(9_223_372_036_854_775)


class DurationError(EngineError):
    code = "invalid_duration"


def parse_duration(text: str) -> timedelta:
    """Parse a Go duration into a `timedelta` (sub-microsecond parts are truncated)."""
    if not isinstance(text, str) or not text or len(text) > _DURATION_TEXT_MAX:
        raise DurationError(f"invalid duration {text!r}: expected a Go duration such as '24h'")
    return _parse(text)


@lru_cache(maxsize=1024)  # counters and rules repeat the same few durations
def _parse(text: str) -> timedelta:
    body, sign = text, 1
    if body[0] in "+-":
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if body == "0":
        return timedelta(0)
    position, total = 0, Decimal(0)
    while position < len(body):
        match = _PART.match(body, position)
        if match is None:
            raise DurationError(f"invalid duration {text!r}: expected numbers with units ns, us, ms, s, m or h")
        total += Decimal(match.group(1)) * _UNIT_MICROSECONDS[match.group(2)]
        position = match.end()
    if not body or total > _MAX_MICROSECONDS:
        raise DurationError(f"invalid duration {text!r}: out of range")
    return timedelta(microseconds=sign * int(total))
