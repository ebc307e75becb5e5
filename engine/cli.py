"""The `accrual` command line. Thin: every command calls the same functions the API and the
worker call, and holds no logic of its own."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="accrual")
def main() -> None:
    """Accrual: a rules engine for loyalty, rewards and incentive programs."""


@main.group()
def bench() -> None:
    """Benchmarks that print their figures beside a reference measured in the same run."""


@bench.command(name="expressions")
@click.option("--repeats", default=5, show_default=True, help="Timing runs per case; the best counts.")
@click.option("--loops", default=20_000, show_default=True, help="Evaluations per timing run.")
def bench_expressions(repeats: int, loops: int) -> None:
    """Time compiled rule expressions against hand-written Python doing the same work."""
    from engine.bench.expressions import measure, report

    click.echo(report(measure(repeats=repeats, loops=loops)))


@bench.command(name="engine")
@click.option("--events", type=click.IntRange(1, 100_000), default=400, show_default=True,
              help="Events evaluated per measurement.")
@click.option("--repeats", type=click.IntRange(1, 100), default=5, show_default=True,
              help="Measurements per figure; the best is shown.")
def bench_engine(events: int, repeats: int) -> None:
    """Evaluate one event against programs of 10, 100 and 1,000 rules, with the rule index and
    with every condition evaluated (the reference)."""
    from engine.bench.engine import measure, render

    click.echo("\n".join(render(measure(events=events, repeats=repeats))))
