"""`accrual sweep`: apply every piece of the clock's due work now, or as of a given time (D33).

    accrual sweep                          # everything due now
    accrual sweep --until 2027-01-01T00:00:00Z

Operators catch up with it after a worker was down; tests move time with it. The worker's
scheduler does the same work every `ACCRUAL_SCHEDULER_INTERVAL_S`; running both is safe, each due
item is applied once.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from engine.cli.common import database


def _when(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an RFC 3339 time", param_hint="--until") from None
    if moment.tzinfo is None:
        raise click.BadParameter("give the time with its offset, e.g. 2027-01-01T00:00:00Z", param_hint="--until")
    return moment.astimezone(UTC)


@click.command()
@click.option("--until", "until", default=None, help="Apply what is due at this RFC 3339 time (default: now).")
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="Default: $DATABASE_URL or var/accrual.db.")
@click.option("--queue-url", envvar="QUEUE_URL", default=None, help="Where webhooks are queued (as `accrual worker`).")
def sweep(until: str | None, database_url: str | None, queue_url: str | None) -> None:
    """Expire and mature the lots, mature the deferred credits, roll over the budgets, review the
    tier levels and fire the automations that are due, each once, with a progress bar; prints what
    each job applied."""
    from engine.queue import configure_queue
    from engine.settings import WorkerSettings
    from engine.store.migrations import require_current
    from engine.worker.operations_jobs import register_operations_jobs
    from engine.worker.scheduler import (
        due_counts,
        register_automation_jobs,
        register_ledger_jobs,
        register_tier_jobs,
        run_due,
    )

    now = _when(until)
    with database(database_url) as db:  # an engine error reaches the boundary (`engine.cli.main`)
        settings = WorkerSettings.from_env()
        configure_queue(db, queue_url, settings)  # webhooks of what expires are queued like any other
        register_ledger_jobs(settings)
        register_tier_jobs(settings)
        register_operations_jobs(settings)
        register_automation_jobs()
        with db.connection_context():
            require_current(db, "the sweep")
            total = sum(due_counts(now).values())
            with click.progressbar(length=max(total, 1), label=f"due at {now.isoformat()}") as bar:
                done = run_due(now, progress=lambda _job, applied: bar.update(applied))
    for job, count in done.items():
        click.echo(f"{job}: {count}")
