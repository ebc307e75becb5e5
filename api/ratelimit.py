"""Per-organisation rate limiting with Scrip's headers (A49).

A token bucket per organisation: `rate_per_s` tokens flow in each second up to `burst`; a request
takes one. Every authenticated response carries `X-RateLimit-Limit` (the burst),
`X-RateLimit-Remaining` and `X-RateLimit-Reset` (unix seconds when the bucket is full again); a
refused one answers 429 `too_many_requests` with `Retry-After`. Off by default for self-hosting;
the buckets live in each API process, so with N processes an organisation gets up to N times the
rate (A49, as `docs/api.md` tells operators).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import msgspec


class RateLimitConfig(msgspec.Struct, kw_only=True, frozen=True):
    """Example: `RateLimitConfig(rate_per_s=10, burst=30)` (Scrip's default tier)."""

    rate_per_s: float = 10.0
    burst: int = 30


class Decision(msgspec.Struct, kw_only=True, frozen=True):
    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # unix seconds when the bucket is full again
    retry_after_s: int = 0

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_s)
        return headers


class RateLimiter:
    """Token buckets keyed by organisation id; `clock` is injectable so tests need no sleeping.

    Example: `RateLimiter(RateLimitConfig(rate_per_s=1, burst=2)).take("org_1").allowed` -> True.
    """

    def __init__(self, config: RateLimitConfig, clock: Callable[[], float] = time.time) -> None:
        self.config, self.clock = config, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # org -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, org_id: str) -> Decision:
        rate, burst = self.config.rate_per_s, self.config.burst
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.get(org_id, (float(burst), now))
            tokens = min(float(burst), tokens + (now - at) * rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[org_id] = (tokens, now)
        reset_at = math.ceil(now + (burst - tokens) / rate)
        retry_after = 0 if allowed else max(1, math.ceil((1.0 - tokens) / rate))
        return Decision(
            allowed=allowed, limit=burst, remaining=int(tokens), reset_at=reset_at, retry_after_s=retry_after
        )
