"""The worker's tunables, read once from the environment.

ACCRUAL_EVENT_RETRY_DELAYS     "2,4,8,16,32"  seconds before each retry of a failed attempt (D13);
                                              an event gets 1 + len(delays) attempts. "0,0" in tests
ACCRUAL_EVENT_LEASE_S          60             how long a claimed (PROCESSING) event belongs to its
                                              worker before the reconciler may hand it to another
ACCRUAL_RECONCILE_INTERVAL_S   10             how often the reconciler runs
ACCRUAL_RECONCILE_STALE_S      30             a PENDING row untouched this long is woken again
ACCRUAL_SCHEDULER_INTERVAL_S   10             how often the worker runs due work (lots to expire or
                                              mature, budget periods to roll over)
ACCRUAL_WEBHOOK_RETRY_DELAYS   "5,300,1800,7200,18000,36000,36000"
                                              seconds between the 8 attempts of a delivery (D27)
ACCRUAL_WEBHOOK_TIMEOUT_S      10             per attempt: connect, TLS, send and read
ACCRUAL_WEBHOOKS_ALLOW_PRIVATE 0              1 = development: allow http:// and private addresses
ACCRUAL_REQUEST_LOG_RETENTION_DAYS
                               30             days; older request logs are pruned by the scheduler
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from engine.errors import EngineError


class WorkerSettingError(EngineError):
    """An environment variable of the worker has a value it cannot use."""

    code = "worker_setting_invalid"


@dataclass(frozen=True)
class WorkerSettings:
    """Tunables of event processing, reconciliation and webhook delivery (see module docstring)."""

    event_retry_delays_s: tuple[float, ...] = (2, 4, 8, 16, 32)
    event_lease_s: float = 60
    reconcile_interval_s: float = 10
    reconcile_stale_s: float = 30
    scheduler_interval_s: float = 10
    webhook_retry_delays_s: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
    webhook_timeout_s: float = 10
    webhooks_allow_private: bool = False
    request_log_retention_days: float = 30

    @property
    def event_max_attempts(self) -> int:
        return 1 + len(self.event_retry_delays_s)

    @property
    def webhook_max_attempts(self) -> int:
        return 1 + len(self.webhook_retry_delays_s)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WorkerSettings:
        """Settings from `environ` (default `os.environ`); unset variables keep their defaults.

        >>> WorkerSettings.from_env({"ACCRUAL_EVENT_RETRY_DELAYS": "0,0"}).event_max_attempts
        3
        """
        env = os.environ if environ is None else environ
        default = cls()
        return cls(
            event_retry_delays_s=_delays(env, "ACCRUAL_EVENT_RETRY_DELAYS", default.event_retry_delays_s),
            event_lease_s=_seconds(env, "ACCRUAL_EVENT_LEASE_S", default.event_lease_s),
            reconcile_interval_s=_seconds(env, "ACCRUAL_RECONCILE_INTERVAL_S", default.reconcile_interval_s),
            reconcile_stale_s=_seconds(env, "ACCRUAL_RECONCILE_STALE_S", default.reconcile_stale_s),
            scheduler_interval_s=_seconds(env, "ACCRUAL_SCHEDULER_INTERVAL_S", default.scheduler_interval_s),
            webhook_retry_delays_s=_delays(env, "ACCRUAL_WEBHOOK_RETRY_DELAYS", default.webhook_retry_delays_s),
            webhook_timeout_s=_seconds(env, "ACCRUAL_WEBHOOK_TIMEOUT_S", default.webhook_timeout_s),
            webhooks_allow_private=_flag(env, "ACCRUAL_WEBHOOKS_ALLOW_PRIVATE"),
            request_log_retention_days=_days(
                env, "ACCRUAL_REQUEST_LOG_RETENTION_DAYS", default.request_log_retention_days
            ),
        )


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86_400 * 7:
        raise WorkerSettingError(f"{name}={raw!r}: expected seconds between 0 and 604800", variable=name)
    return value


def _days(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3660:
        raise WorkerSettingError(f"{name}={raw!r}: expected days between 0 and 3660", variable=name)
    return value


def _delays(env: Mapping[str, str], name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    parts = [part.strip() for part in raw.split(",")]
    if len(parts) > 20 or "" in parts:
        raise WorkerSettingError(f"{name}={raw!r}: expected up to 20 comma-separated seconds", variable=name)
    return tuple(_seconds({name: part}, name, -1) for part in parts)


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise WorkerSettingError(f"{name}={raw!r}: expected 1 or 0", variable=name)
