"""Cron expressions: five fields (minute, hour, day of month, month, day of week) read in an IANA
time zone, with the firing times computed by `cronsim` (D32, A140).

    >>> next_fire("0 9 * * *", datetime(2026, 3, 28, 12, tzinfo=UTC), "Europe/London")
    datetime.datetime(2026, 3, 29, 8, 0, tzinfo=datetime.timezone.utc)   # 09:00 BST

Times go in and come out as aware UTC datetimes; the zone only says on which wall clock the
fields are read. Daylight saving follows Debian cron, as cronsim does: a time that a spring-forward
skips fires at the end of the gap (02:30 on the night clocks go from 02:00 to 03:00 fires at
03:00), and a time that a fall-back repeats fires once, at its first occurrence. Expressions whose
minute or hour field starts with `*` (every minute, every hour) simply follow the UTC instants.

Day of month and day of week combine as in Debian cron: when either starts with `*` both must
match, otherwise either may. Names (`JAN`, `MON`) and cronsim's `L`, `W` and `#` are accepted;
a seconds field, `@daily`-style aliases and `CRON_TZ=` / `TZ=` prefixes are not (the zone is a
field of its own).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import UTC, datetime

from cronsim import CronSim, CronSimError

from engine.errors import EngineError
from engine.model.calendar import zone

CRON_LENGTH_MAX = 100  # the stored column's width
_FIELDS = 5


class CronError(EngineError):
    """A cron expression that cannot be used."""

    code = "invalid_cron"


@functools.lru_cache(maxsize=512)
def cron_problem(expression: str) -> str | None:
    """None for a usable expression, else what is wrong with it.

    >>> cron_problem("0 9 * * MON")
    >>> cron_problem("0 9 * *")
    "cron expression '0 9 * *' has 4 fields; write five: minute hour day-of-month month day-of-week"
    """
    text = expression.strip()
    if not text:
        return "the cron expression is empty"
    if len(expression) > CRON_LENGTH_MAX:
        return f"the cron expression is longer than {CRON_LENGTH_MAX} characters"
    upper = text.upper()
    if upper.startswith(("CRON_TZ=", "TZ=")):
        return "write the time zone in `timezone`, not as a CRON_TZ= or TZ= prefix"
    if text.startswith("@"):
        return f"aliases such as {text.split()[0]!r} are not supported; write the five fields (e.g. '0 0 * * *')"
    count = len(text.split())
    if count != _FIELDS:
        return (
            f"cron expression {expression!r} has {count} field{'s' if count != 1 else ''}; "
            "write five: minute hour day-of-month month day-of-week"
        )
    try:
        CronSim(text, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        return f"invalid cron expression {expression!r}: {str(exc).lower()}"
    except (ValueError, IndexError) as exc:  # a field cronsim's parser does not expect at all
        return f"invalid cron expression {expression!r}: {exc}"
    return None


def check_cron(expression: str) -> str:
    """The expression, stripped; `CronError` when it cannot be used."""
    problem = cron_problem(expression)
    if problem is not None:
        raise CronError(problem)
    return expression.strip()


def firings(expression: str, after: datetime, timezone: str = "UTC") -> Iterator[datetime]:
    """The firing times strictly after `after`, in order, as aware UTC datetimes; ends when the
    expression fires no more within 50 years (cronsim's horizon). `after` must be aware."""
    clock = zone(timezone)
    for moment in CronSim(check_cron(expression), after.astimezone(clock)):
        yield moment.astimezone(UTC)


def next_fire(expression: str, after: datetime, timezone: str = "UTC") -> datetime | None:
    """The first firing strictly after `after` (None when it never fires again)."""
    return next(firings(expression, after, timezone), None)


def fires_between(
    expression: str, start: datetime, end: datetime, timezone: str = "UTC", limit: int = 100
) -> list[datetime]:
    """The firings in `(start, end]`, at most `limit` of them."""
    found: list[datetime] = []
    for moment in firings(expression, start, timezone):
        if moment > end or len(found) >= limit:
            break
        found.append(moment)
    return found
