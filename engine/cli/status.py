"""`accrual status`: the operator's health on one screen, the figures `GET /metrics` exposes
(`engine/store/vitals.py`): events of the last hour, the queue, processing latency, webhooks,
the rules that errored in the last hour (`rule_error_counts`) and the reports' rollup lag."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from engine.cli.common import database as _database
from engine.cli.common import style as _style

if TYPE_CHECKING:
    from engine.store.vitals import Vitals


@click.command()
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="Default: $DATABASE_URL or var/accrual.db.")
@click.option(
    "--rules",
    "rule_lines",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="At most this many erroring rules, the most errors first.",
)
def status(database_url: str | None, rule_lines: int) -> None:
    """Events, queue, latency, webhooks and rule errors, read from the database; exit 1 if the
    schema is not current."""
    from engine.store.db import utcnow
    from engine.store.migrations import LATEST_VERSION, current_version
    from engine.store.vitals import vitals

    with _database(database_url) as db, db.connection_context():
        if current_version(db) < LATEST_VERSION:
            raise click.ClickException("the database schema is not current: run `accrual db upgrade` first")
        figures = vitals(utcnow())
    for line in render(figures, rule_lines):
        click.echo(line)


def render(figures: Vitals, rule_lines: int = 10) -> list[str]:
    """The screen's lines (plain text; warnings styled on a terminal)."""
    events = figures.events_by_status
    lines = [
        f"accrual status at {figures.now.isoformat(timespec='seconds')}",
        "events, last hour: "
        + ", ".join(f"{s.lower()} {events.get(s, 0)}" for s in ("COMPLETED", "FAILED", "PENDING", "PROCESSING")),
        f"queue: pending {figures.queue_depth.get('PENDING', 0)}, processing {figures.queue_depth.get('PROCESSING', 0)}"
        + (
            f", oldest pending {figures.oldest_pending_age_s:.1f} s" if figures.oldest_pending_age_s is not None else ""
        ),
        _latency_line(figures),
        (
            f"webhooks, last 24 h: delivered {figures.webhook_attempts['success']}, failed attempts "
            f"{figures.webhook_attempts['failure']}; backlog {figures.webhook_backlog}; circuits open "
            f"{figures.webhook_circuits_open}"
        ),
        f"reports rollup: {figures.rollup_behind} journal entries behind",
    ]
    if figures.webhook_circuits_open:
        lines[4] = _style(lines[4], fg="yellow")
    if not figures.rule_errors:
        lines.append("rule errors, last hour: none")
        return lines
    lines.append(_style(f"rule errors, last hour: {len(figures.rule_errors)} rule(s)", fg="red"))
    worst = sorted(figures.rule_errors, key=lambda r: (-r.errored, r.rule_name))[:rule_lines]
    for rule in worst:
        lines.append(
            f"  {rule.rule_name} ({rule.rule_id}, program {rule.program_id}): {rule.errors} errors, "
            f"{rule.timeouts} timeouts in {rule.events} events ({rule.error_rate:.1%})"
        )
    return lines


def _latency_line(figures: Vitals) -> str:
    latency = figures.latency
    if not latency.count:
        return "processing latency, last hour: no events processed"
    median = next((bound for bound, count in latency.buckets if count * 2 >= latency.count), None)
    p99 = next((bound for bound, count in latency.buckets if count * 100 >= latency.count * 99), None)
    mean = latency.total_s / latency.count
    return (
        f"processing latency, last hour: {latency.count} events, mean {mean:.3f} s, "
        f"median <= {_bound(median)}, p99 <= {_bound(p99)}"
    )


def _bound(value: float | None) -> str:
    return "over 300 s" if value is None else f"{value} s"
