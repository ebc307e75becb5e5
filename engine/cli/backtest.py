"""`accrual backtest`: what a changed ruleset would have done to a program's recorded history
(D36), as a difference against the baseline, with nothing written.

    accrual backtest candidate.yaml --program ID --from 2026-11-01T00:00:00Z --to 2026-12-01T00:00:00Z
    accrual backtest candidate.yaml --program ID --last 5000 --against previous.yaml --json
    accrual backtest candidate.yaml --program ID --fail-on participants=0 --fail-on liability=100

The baseline is the program as applied now, or the bundle given with `--against`. Exit status 1
when a `--fail-on` threshold is crossed (so CI can gate a rule change), 1 with a message when the
backtest cannot run (unknown program, empty window, a bundle with errors), 2 on bad usage.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from engine.cli.common import database
from engine.cli.common import style as _style

CURRENT = "CURRENT"
THRESHOLDS = ("changed_events", "participants", "mismatches", "liability")


def _moment(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an RFC 3339 time", param_hint=name) from None
    if moment.tzinfo is None:
        raise click.BadParameter("give the time with its offset, e.g. 2026-11-01T00:00:00Z", param_hint=name)
    return moment.astimezone(UTC)


def _thresholds(given: tuple[str, ...]) -> dict[str, Decimal]:
    """`NAME=LIMIT` pairs: the backtest fails when NAME's value exceeds LIMIT."""
    found: dict[str, Decimal] = {}
    for text in given:
        name, _, limit = text.partition("=")
        name = name.strip().replace("-", "_")
        if name not in THRESHOLDS:
            raise click.BadParameter(f"{name!r} is not one of {', '.join(THRESHOLDS)}", param_hint="--fail-on")
        try:
            found[name] = Decimal(limit)
        except InvalidOperation:
            raise click.BadParameter(f"{text!r} needs NAME=NUMBER", param_hint="--fail-on") from None
        if not found[name].is_finite() or found[name] < 0:
            raise click.BadParameter(f"{text!r} needs a limit of 0 or more", param_hint="--fail-on")
    return found


def _load(path: str, label: str):
    from engine.cli.report import problem_lines
    from engine.rules.loader import load_bundle

    loaded = load_bundle(path)
    if loaded.program is None:
        click.echo("\n".join(problem_lines(loaded, _style, warnings=False)), err=True)
        raise click.ClickException(f"the {label} bundle {path} has errors")
    return loaded.program


class _Bar:
    """A progress bar on standard error, opened when the window's size is known."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=max(total, 1), label="replaying", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


@click.command()
@click.argument("bundle", type=click.Path(dir_okay=False))
@click.option("--program", "program_id", required=True, help="The stored program whose history is replayed.")
@click.option("--from", "start", default=None, help="Events processed at or after this RFC 3339 time.")
@click.option("--to", "end", default=None, help="Events processed before this RFC 3339 time (default: now).")
@click.option("--last", type=click.IntRange(min=1), default=None, help="The last N processed events instead.")
@click.option("--against", default=CURRENT, show_default=True, help="The baseline: CURRENT (as applied) or a file.")
@click.option("--json", "as_json", is_flag=True, help="Print the difference as JSON.")
@click.option("--fail-on", multiple=True, help=f"NAME=LIMIT, exit 1 above it; NAME: {', '.join(THRESHOLDS)}.")
@click.option("--sample", type=click.IntRange(min=0, max=1000), default=20, show_default=True)
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="Default: $DATABASE_URL or var/accrual.db.")
def backtest(
    bundle: str,
    program_id: str,
    start: str | None,
    end: str | None,
    last: int | None,
    against: str,
    as_json: bool,
    fail_on: tuple[str, ...],
    sample: int,
    database_url: str | None,
) -> None:
    """Replay the program's recorded events under the baseline and under BUNDLE, and print the
    difference: per rule, per asset, per participant, with the baseline's reproduction check."""
    from engine.cli.backtest_report import difference_json, difference_lines, threshold_values
    from engine.store.migrations import require_current
    from engine.worker.backtests import replay_history

    if last is not None and (start is not None or end is not None):
        raise click.UsageError("give --from/--to or --last, not both")
    thresholds = _thresholds(fail_on)
    first, until = _moment(start, "--from"), _moment(end, "--to")
    candidate = _load(bundle, "candidate")
    chosen = None if against.upper() == CURRENT else _load(against, "baseline")
    with database(database_url) as db, db.connection_context():
        require_current(db, "a backtest")
        with _Bar() as bar:  # an engine error reaches the command line's boundary (`engine.cli.main`)
            window, difference = replay_history(
                db, program_id, candidate, chosen, start=first, end=until, last=last, sample=sample, progress=bar
            )
    click.echo(difference_json(window, difference) if as_json else "\n".join(difference_lines(difference)))
    crossed = [
        f"{name} {value} > {thresholds[name]}"
        for name, value in threshold_values(difference).items()
        if name in thresholds and value > thresholds[name]
    ]
    if crossed:
        click.echo(_style("fail-on crossed: " + "; ".join(crossed), fg="red"), err=True)
        sys.exit(1)
