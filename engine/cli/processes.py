"""`accrual worker`, `accrual serve` and `accrual up`: the processes of a running system."""

from __future__ import annotations

import click


@click.command()
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="Default: $DATABASE_URL or var/accrual.db.")
@click.option(
    "--queue-url",
    envvar="QUEUE_URL",
    default=None,
    help="Default: $QUEUE_URL, or the application database (SqlHuey). redis://... for RedisHuey.",
)
@click.option(
    "-w",
    "--threads",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Tasks run at once by this process.",
)
@click.option(
    "--no-reconciler",
    is_flag=True,
    help="Do not run the reconciler in this process (one per deployment is enough; more are safe).",
)
@click.option(
    "--no-scheduler",
    is_flag=True,
    help="Do not run due work (lot expiry and maturity, budget periods) in this process.",
)
@click.option(
    "--poll-max",
    type=click.FloatRange(0.05, 60),
    default=1.0,
    show_default=True,
    help="Longest wait in seconds between looks at an idle SQL queue.",
)
def worker(
    database_url: str | None,
    queue_url: str | None,
    threads: int,
    no_reconciler: bool,
    no_scheduler: bool,
    poll_max: float,
) -> None:
    """Process events and send webhooks until SIGTERM or SIGINT (both graceful).

    Tunables come from the environment (ACCRUAL_EVENT_RETRY_DELAYS, ACCRUAL_EVENT_LEASE_S,
    ACCRUAL_WEBHOOKS_ALLOW_PRIVATE, ...; see engine/settings.py)."""
    import logging

    from engine.settings import WorkerSettings
    from engine.worker.runner import WorkerOptions, run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = WorkerSettings.from_env()  # an engine error reaches the boundary (`engine.cli.main`)
    options = WorkerOptions(
        threads=threads, reconciler=not no_reconciler, scheduler=not no_scheduler, poll_max_s=poll_max
    )
    run_worker(options, database_url=database_url, queue_url=queue_url, settings=settings)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    envvar="PORT",
    type=click.IntRange(1, 65535),
    default=8000,
    show_default=True,
    help="Default: $PORT or 8000.",
)
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="Default: $DATABASE_URL or var/accrual.db.")
@click.option(
    "--examples",
    type=click.Path(file_okay=False, exists=True),
    default="rules_examples",
    show_default=True,
    help="Bundles applied to the demo organisation.",
)
def up(host: str, port: int, database_url: str | None, examples: str) -> None:
    """Prepare the database, apply the example programs, print a demo API key and run the API, the
    playground and a worker until Ctrl-C (what `make run` does)."""
    from pathlib import Path

    from engine.cli.up import UpOptions, run_up
    from engine.store.db import database_url as default_url

    run_up(UpOptions(host=host, port=port, database_url=database_url or default_url(), examples=Path(examples)))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="API processes.")
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="Default: $DATABASE_URL or var/accrual.db.")
def serve(host: str, port: int, workers: int, database_url: str | None) -> None:
    """Run the HTTP API and the playground under uvicorn (the schema must be upgraded first:
    `accrual db upgrade`)."""
    import os

    import uvicorn

    from engine.store.db import database_url as default_url

    os.environ["DATABASE_URL"] = database_url or default_url()
    uvicorn.run("engine.cli.server:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="info")
