"""The scheduler: the clock-driven work of `accrual worker` (D33), and `accrual sweep`.

    run_due(now)                                   # every job until nothing is due at `now`
    Scheduler(database, settings).start()          # the worker's thread: run_due(clock()) each interval

A job is a function `(now, limit) -> applied` that applies at most `limit` due items, each claimed
in the transaction that applies it (`engine.store.sweeps`), and returns how many it applied: the
scheduler calls it again while it returns its limit. Jobs run in the order they are registered;
later work (tier period ends, automation firings) registers jobs of its own (`register_job`).
Any number of workers run the scheduler at once: an item one of them applied is no longer due for
the others. The clock is injected, so tests and `accrual sweep --until T` move time instead of
sleeping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from peewee import Database

from engine.queue import connection
from engine.settings import WorkerSettings
from engine.store import sweeps, tier_rollovers, tier_sweeps
from engine.store.db import utcnow
from engine.store.ledger.movements import Settlement
from engine.webhooks import messages
from engine.worker import automations, subscriptions

log = logging.getLogger("accrual.scheduler")

Job = Callable[[datetime, int], int]
Progress = Callable[[str, int], None]  # (job name, items applied in the last call)
BATCH = 500


@dataclass(frozen=True)
class RegisteredJob:
    name: str
    run: Job
    count: Callable[[datetime], int] | None = None  # how many items are due (for progress)


@dataclass
class Registry:
    jobs: list[RegisteredJob] = field(default_factory=list)

    def register(self, name: str, run: Job, count: Callable[[datetime], int] | None = None) -> None:
        """Add (or replace) the job `name`."""
        self.jobs = [job for job in self.jobs if job.name != name] + [RegisteredJob(name, run, count)]


JOBS = Registry()


def register_job(name: str, run: Job, count: Callable[[datetime], int] | None = None) -> None:
    """Run `run(now, limit)` in every scheduler pass; `count(now)` tells how much is due."""
    JOBS.register(name, run, count)


def run_due(now: datetime, *, limit: int = BATCH, progress: Progress | None = None) -> dict[str, int]:
    """Run every job until nothing is due at `now`; returns how many items each applied."""
    done: dict[str, int] = {}
    for job in JOBS.jobs:
        total = 0
        while True:
            applied = job.run(now, limit)
            total += applied
            if progress is not None and applied:
                progress(job.name, applied)
            if applied < limit:
                break
        done[job.name] = total
    return done


def due_counts(now: datetime) -> dict[str, int]:
    """How many items each job has due at `now` (jobs that can tell)."""
    return {job.name: job.count(now) for job in JOBS.jobs if job.count is not None}


class Scheduler(threading.Thread):
    """Runs `run_due` every `interval_s` until stopped; a failing pass is logged, never fatal."""

    def __init__(self, database: Database, interval_s: float, clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(name="accrual-scheduler", daemon=True)
        self.database, self.interval_s, self.clock = database, interval_s, clock
        self.stopped = threading.Event()

    def run(self) -> None:
        while True:
            self.run_once()
            if self.stopped.wait(self.interval_s):
                return

    def run_once(self) -> dict[str, int]:
        try:
            with connection(self.database):
                done = run_due(self.clock())
            if any(done.values()):
                log.info("scheduler: %s", done)
            return done
        except Exception:
            log.exception("scheduler pass failed")
            return {}


# --- the jobs of the ledger ----------------------------------------------------------------------


def _publish_expiries(settlements: list[Settlement], max_attempts: int) -> None:
    """`balance.expired` for each expired lot, in the transaction that expired it."""
    for settlement in settlements:
        if settlement.kind == "EXPIRED":
            messages.publish(
                settlement.asset.organisation_id,
                "balance.expired",
                messages.expiry_data(settlement),
                max_attempts=max_attempts,
            )


def register_ledger_jobs(settings: WorkerSettings) -> None:
    """The ledger's due work: lots to expire or mature, SIMPLE deferred credits to mature, budget
    periods to roll over."""

    def lots(now: datetime, limit: int) -> int:
        return sweeps.settle_due_lots(
            now, limit, on_settled=lambda done: _publish_expiries(done, settings.webhook_max_attempts)
        ).holders

    register_job("lots", lots, sweeps.count_due_holders)
    register_job("deferred_credits", lambda now, limit: sweeps.mature_due(now, limit))
    register_job("budgets", sweeps.roll_due_budgets)


def register_automation_jobs() -> None:
    """Automations' firings: the due ones started, their fan-outs to participants carried on
    (`engine.worker.automations`); participant_state subscriptions fired when due
    (`engine.worker.subscriptions`)."""
    register_job("automations", automations.fire_due_automations, automations.count_due_automations)
    register_job(
        "automation_subscriptions", subscriptions.fire_due_subscriptions, subscriptions.count_due_subscriptions
    )


# --- the jobs of tier lifecycles -----------------------------------------------------------------


def register_tier_jobs(settings: WorkerSettings) -> None:
    """Tier lifecycles' due work (A132): period ends, drops after grace, inactive levels, expiries;
    `participant.tier_changed` for each change, in the transaction that made it; and the rollovers
    of members who hold no level (A215)."""

    def publish(moves: list[tier_sweeps.TierMove]) -> None:
        for move in moves:
            messages.publish(
                move.organisation_id,
                "participant.tier_changed",
                messages.tier_changed_data(move),
                max_attempts=settings.webhook_max_attempts,
            )

    register_job(
        "tiers",
        lambda now, limit: tier_sweeps.review_due_tiers(now, limit, on_moved=publish),
        tier_sweeps.count_due_tiers,
    )
    # after `tiers`: a level it removes leaves its member's rollover, due at once in a late sweep
    register_job("tier_rollovers", tier_rollovers.roll_over_due_members, tier_rollovers.count_due_rollovers)
