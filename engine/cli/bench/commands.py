"""`accrual bench ...`: benchmarks that print their figures beside a reference measured in the same run."""

from __future__ import annotations

import click


@click.group()
def bench() -> None:
    """Benchmarks that print their figures beside a reference measured in the same run."""


@bench.command(name="expressions")
@click.option("--repeats", default=7, show_default=True, help="Timing runs per case; the best counts.")
@click.option("--loops", default=10_000, show_default=True, help="Evaluations per timing run.")
def bench_expressions(repeats: int, loops: int) -> None:
    """Time compiled rule expressions against hand-written Python doing the same work."""
    from engine.cli.bench.expressions import measure, report

    click.echo(report(measure(repeats=repeats, loops=loops)))


@bench.command(name="hostile")
@click.option("--repeats", type=click.IntRange(1, 100), default=3, show_default=True, help="Evaluations per case.")
def bench_hostile(repeats: int) -> None:
    """Evaluate rules written to be slow against a large event: each must end SKIPPED_TIMEOUT or
    SKIPPED_ERROR within the evaluation's bound."""
    from engine.cli.bench.hostile import measure, report

    click.echo(report(measure(repeats=repeats)))


@bench.command(name="isolation")
@click.option("--database", "database_url", default=None, help="A PostgreSQL URL (its public schema is replaced); "
              "default: a SQLite file in a temporary directory.")  # fmt: skip
@click.option("--seconds", type=click.FloatRange(1, 600), default=15.0, show_default=True, help="Per phase.")
@click.option("--rate", type=click.FloatRange(1, 1000), default=20.0, show_default=True, help="B's events per second.")
def bench_isolation(database_url: str | None, seconds: float, rate: float) -> None:
    """Time one organisation's ingest alone and while the worker processes another organisation's
    hostile events, on a real API and worker."""
    from engine.cli.bench.isolation import measure, render

    click.echo("\n".join(render(measure(database_url, seconds=seconds, rate=rate))))


@bench.command(name="engine")
@click.option(
    "--events",
    type=click.IntRange(1, 100_000),
    default=400,
    show_default=True,
    help="Events evaluated per measurement.",
)
@click.option(
    "--repeats",
    type=click.IntRange(1, 100),
    default=5,
    show_default=True,
    help="Measurements per figure; the best is shown.",
)
def bench_engine(events: int, repeats: int) -> None:
    """Evaluate one event against programs of 10, 100 and 1,000 rules, with the rule index and
    with every condition evaluated (the reference)."""
    from engine.cli.bench.engine import measure, render

    click.echo("\n".join(render(measure(events=events, repeats=repeats))))


@bench.command(name="ledger")
@click.option(
    "--events", type=click.IntRange(10, 1_000_000), default=2000, show_default=True, help="Events posted per database."
)
@click.option(
    "--postgres",
    "postgres_url",
    envvar="TEST_POSTGRES_URL",
    default=None,
    help="PostgreSQL URL to measure too (a scratch schema is created and dropped).",
)
def bench_ledger(events: int, postgres_url: str | None) -> None:
    """Post typical events through post_event_effects, beside one-row insert transactions."""
    from engine.cli.bench.ledger import measure, render

    click.echo("\n".join(render(measure(events, postgres_url))))


@bench.command(name="sweep")
@click.option(
    "--lots", type=click.IntRange(10, 10_000_000), default=20_000, show_default=True, help="Lots expired per database."
)
@click.option(
    "--per-holder",
    type=click.IntRange(1, 10_000),
    default=1,
    show_default=True,
    help="Lots of each participant (participants: lots / per-holder).",
)
@click.option(
    "--postgres",
    "postgres_url",
    envvar="TEST_POSTGRES_URL",
    default=None,
    help="PostgreSQL URL to measure too (a scratch schema is created and dropped).",
)
def bench_sweep(lots: int, per_holder: int, postgres_url: str | None) -> None:
    """Expire lots through the scheduler's sweep (an EXPIRY entry per lot), beside one
    hand-written UPDATE of the same rows."""
    from engine.cli.bench.sweep import measure, render

    click.echo("\n".join(render(measure(lots, per_holder, postgres_url))))


@bench.command(name="backtest")
@click.option(
    "--events",
    type=click.IntRange(10, 1_000_000),
    default=2000,
    show_default=True,
    help="Events recorded, then replayed.",
)
@click.option(
    "--repeats", type=click.IntRange(1, 100), default=3, show_default=True, help="Runs per figure; the best is shown."
)
def bench_backtest(events: int, repeats: int) -> None:
    """Replay a recorded history of the 10-rule benchmark program as `accrual backtest` does,
    beside evaluate_event's rate on the same events."""
    from engine.cli.bench.backtest import measure, render

    click.echo("\n".join(render(measure(events, repeats=repeats))))


@bench.command(name="playground")
@click.option(
    "--rules", type=click.IntRange(1, 10_000), default=100, show_default=True, help="Rules in the generated bundle."
)
@click.option(
    "--runs",
    type=click.IntRange(5, 100_000),
    default=200,
    show_default=True,
    help="Dry runs per figure (a tenth of them for a first load with nothing cached).",
)
def bench_playground(rules: int, runs: int) -> None:
    """Time the playground's dry run (POST /playground/run through the app) of a generated
    bundle, median and p95, beside the bare evaluate_event call."""
    from engine.cli.bench.playground import measure, render

    click.echo("\n".join(render(measure(rules=rules, runs=runs))))


@bench.command(name="pipeline")
@click.option(
    "--events",
    type=click.IntRange(50, 100_000),
    default=2000,
    show_default=True,
    help="Events posted per figure (and as many trivial tasks).",
)
@click.option(
    "--workers",
    "worker_counts",
    type=click.IntRange(1, 16),
    multiple=True,
    default=(1, 2),
    show_default=True,
    help="Worker process counts to measure (repeat the option).",
)
@click.option("--rules", type=click.IntRange(1, 1000), default=10, show_default=True, help="Rules in the program.")
@click.option(
    "--alone/--no-alone",
    default=True,
    show_default=True,
    help="Also time the processing alone: a backlog drained in this process, no HTTP, no queue.",
)
@click.option("--database", "database_url", default="", help="A PostgreSQL URL (its public schema is replaced); "
              "default: SQLite files in a temporary directory.")  # fmt: skip
@click.option("--queue", "queue_url", default="sql", show_default=True,
              help="A Redis URL (its database is emptied), or sql: SqlHuey on the database.")  # fmt: skip
def bench_pipeline(
    events: int, worker_counts: tuple[int, ...], rules: int, alone: bool, database_url: str, queue_url: str
) -> None:
    """Events per second from POST /v1/events to COMPLETED with real API and worker processes on
    SQLite (or PostgreSQL and Redis), beside a trivial Huey task on the same queue, with 1 and 2
    worker processes."""
    from engine.cli.bench.pipeline import measure, render
    from engine.cli.bench.processing import processing_rate, render_processing

    report = measure(
        events=events, worker_counts=worker_counts, rules=rules, database_url=database_url, queue_url=queue_url
    )
    lines = render(report)
    if alone:
        best = max((run.trivial_per_s for run in report.runs), default=None)
        lines += render_processing(processing_rate(events, rules, database_url=database_url, queue_url=queue_url), best)
    click.echo("\n".join(lines))


@bench.command(name="ingest")
@click.option(
    "--requests", type=click.IntRange(100, 1_000_000), default=3000, show_default=True, help="Requests per endpoint."
)
@click.option("--concurrency", type=click.IntRange(1, 512), default=32, show_default=True)
@click.option("--workers", type=click.IntRange(1, 16), default=1, show_default=True, help="uvicorn processes.")
@click.option(
    "--rounds",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="Alternating rounds per endpoint; the best counts.",
)
@click.option(
    "--request-logs",
    "compare_logs",
    is_flag=True,
    help="Instead: POST /v1/events on two servers, request logs off and on (best and median rounds).",
)
def bench_ingest(requests: int, concurrency: int, workers: int, rounds: int, compare_logs: bool) -> None:
    """POST /v1/events beside GET /v1/health on one real uvicorn server, load from another process."""
    from engine.cli.bench.ingest import format_report, format_request_logs, measure, measure_request_logs

    if compare_logs:
        off, on = measure_request_logs(requests=requests, concurrency=concurrency, rounds=rounds)
        click.echo("\n".join(format_request_logs(off, on)))
        return
    report = measure(requests=requests, concurrency=concurrency, workers=workers, rounds=rounds)
    click.echo("\n".join(format_report(report)))
