"""The `accrual` command line. Thin: every command calls the same functions the API and the
worker call, and holds no logic of its own."""

from __future__ import annotations

import contextlib
import json
import sys

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="accrual")
def main() -> None:
    """Accrual: a rules engine for loyalty, rewards and incentive programs."""


@main.group()
def bench() -> None:
    """Benchmarks that print their figures beside a reference measured in the same run."""


@bench.command(name="expressions")
@click.option("--repeats", default=7, show_default=True, help="Timing runs per case; the best counts.")
@click.option("--loops", default=10_000, show_default=True, help="Evaluations per timing run.")
def bench_expressions(repeats: int, loops: int) -> None:
    """Time compiled rule expressions against hand-written Python doing the same work."""
    from engine.cli.bench.expressions import measure, report

    click.echo(report(measure(repeats=repeats, loops=loops)))


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


@main.group()
def db() -> None:
    """The database named by DATABASE_URL (default: var/accrual.db)."""


@db.command(name="upgrade")
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="Default: $DATABASE_URL or var/accrual.db.")
def db_upgrade(database_url: str | None) -> None:
    """Create or upgrade the schema (safe to run twice, and from several processes at once)."""
    from engine.store.db import connect
    from engine.store.errors import StoreError
    from engine.store.migrations import LATEST_VERSION, upgrade

    try:
        applied = upgrade(connect(database_url))
    except StoreError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from exc
    if applied:
        click.echo(f"applied schema version(s) {', '.join(map(str, applied))}; now at {LATEST_VERSION}")
    else:
        click.echo(f"schema is current (version {LATEST_VERSION})")


@main.command()
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="Default: $DATABASE_URL or var/accrual.db.")
def verify(database_url: str | None) -> None:
    """Recompute every balance from postings, check every entry sums to zero and walk each
    organisation's hash chain; exit 1 naming any mismatch."""
    from engine.store.db import connect
    from engine.store.errors import StoreError
    from engine.store.ledger.verify import verify as verify_ledger
    from engine.store.migrations import current_version

    try:
        database = connect(database_url)
        with database.connection_context():
            if current_version(database) == 0:
                raise click.ClickException("the database has no schema: run `accrual db upgrade` first")
            report = verify_ledger()
    except StoreError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from exc
    click.echo(
        f"checked {report.organisations} organisation(s): {report.entries} journal entries, "
        f"{report.postings} postings, {report.accounts} account balances, hash chains"
    )
    for mismatch in report.mismatches:
        click.echo(_style(f"MISMATCH {mismatch.code}: {mismatch.message}", fg="red"), err=True)
    if not report.ok:
        sys.exit(1)
    click.echo(_style("ledger verified: balances equal postings, entries balance, chains intact", fg="green"))


def _style(text: str, **styles: object) -> str:
    return click.style(text, **styles) if sys.stdout.isatty() else text


@main.command()
def schema() -> None:
    """Print the JSON Schema of program bundle files (for editor completion and validation)."""
    from engine.model.bundle import bundle_json_schema

    click.echo(json.dumps(bundle_json_schema(), indent=2, sort_keys=True))


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
def check(files: tuple[str, ...], strict: bool) -> None:
    """Validate and analyse bundle FILES; every problem is printed as file:line:col."""
    from engine.cli.report import check_files

    report = check_files(files, strict=strict, style=_style)
    click.echo("\n".join(report.lines))
    sys.exit(report.exit_code)


@main.command(name="test")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-v", "--verbose", is_flag=True, help="List passing test cases too.")
def test_command(files: tuple[str, ...], verbose: bool) -> None:
    """Run the test cases of bundle FILES against the engine; print a diff for each failure."""
    from engine.cli.report import run_test_files

    report = run_test_files(files, verbose=verbose, style=_style)
    click.echo("\n".join(report.lines))
    sys.exit(report.exit_code)


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


@main.command()
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
    "--poll-max",
    type=click.FloatRange(0.05, 60),
    default=1.0,
    show_default=True,
    help="Longest wait in seconds between looks at an idle SQL queue.",
)
def worker(database_url: str | None, queue_url: str | None, threads: int, no_reconciler: bool, poll_max: float) -> None:
    """Process events and send webhooks until SIGTERM or SIGINT (both graceful).

    Tunables come from the environment (ACCRUAL_EVENT_RETRY_DELAYS, ACCRUAL_EVENT_LEASE_S,
    ACCRUAL_WEBHOOKS_ALLOW_PRIVATE, ...; see engine/settings.py)."""
    import logging

    from engine.errors import EngineError
    from engine.settings import WorkerSettings
    from engine.worker.runner import WorkerOptions, run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = WorkerSettings.from_env()
        options = WorkerOptions(threads=threads, reconciler=not no_reconciler, poll_max_s=poll_max)
        run_worker(options, database_url=database_url, queue_url=queue_url, settings=settings)
    except EngineError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from exc


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
def bench_pipeline(events: int, worker_counts: tuple[int, ...], rules: int, alone: bool) -> None:
    """Events per second from POST /v1/events to COMPLETED with real API and worker processes on
    SQLite, beside a trivial Huey task on the same queue, with 1 and 2 worker processes."""
    from engine.cli.bench.pipeline import measure, render

    click.echo("\n".join(render(measure(events=events, worker_counts=worker_counts, rules=rules, alone=alone))))


# --- the whole system in one terminal ----------------------------------------------------------


@main.command()
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


# --- the HTTP API: serve, keys, apply, bench ingest ---------------------------------------------


@main.command()
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
    uvicorn.run("api.app:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="info")


@main.group()
def keys() -> None:
    """API keys: created and revoked here, stored only as hashes (D23)."""


@contextlib.contextmanager
def _database(database_url: str | None):
    """The database for one command; its connections are closed when the command ends."""
    from engine.store.db import connect

    db = connect(database_url)
    try:
        yield db
    finally:
        getattr(db, "close_all", db.close)()


@keys.command(name="create")
@click.option("--org", "org_name", required=True, help="Organisation name (created when missing).")
@click.option("--name", default="", help="A label shown by `accrual keys list`.")
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="Default: $DATABASE_URL or var/accrual.db.")
def keys_create(org_name: str, name: str, database_url: str | None) -> None:
    """Create a key for ORG and print the key alone on stdout (it is not shown again)."""
    from api.keys import create_key
    from engine.errors import EngineError

    with _database(database_url):
        try:
            click.echo(create_key(org_name, name=name))
        except EngineError as exc:
            raise click.ClickException(exc.message) from exc


@keys.command(name="revoke")
@click.argument("key_or_prefix")
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="Default: $DATABASE_URL or var/accrual.db.")
def keys_revoke(key_or_prefix: str, database_url: str | None) -> None:
    """Revoke a key, given in full or by the prefix `accrual keys list` shows."""
    from api.keys import revoke_key
    from engine.errors import EngineError

    with _database(database_url):
        try:
            revoked = revoke_key(key_or_prefix)
        except EngineError as exc:
            raise click.ClickException(exc.message) from exc
    for info in revoked:
        click.echo(f"revoked {info.prefix}... ({info.organisation})")


@keys.command(name="list")
@click.option("--org", "org_name", default=None, help="Only this organisation's keys.")
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="Default: $DATABASE_URL or var/accrual.db.")
def keys_list(org_name: str | None, database_url: str | None) -> None:
    """Every key: prefix, organisation, name, and whether it is revoked."""
    from api.keys import list_keys

    with _database(database_url):
        keys_found = list_keys(org_name)
    for info in keys_found:
        click.echo(
            f"{info.prefix}...  {info.organisation}  {info.name or '-'}  {'revoked' if info.revoked else 'active'}"
        )


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
def bench_ingest(requests: int, concurrency: int, workers: int, rounds: int) -> None:
    """POST /v1/events beside GET /v1/health on one real uvicorn server, load from another process."""
    from engine.cli.bench.ingest import format_report, measure

    report = measure(requests=requests, concurrency=concurrency, workers=workers, rounds=rounds)
    click.echo("\n".join(format_report(report)))


@main.command(name="apply")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--server", default=None, help="Base URL of a running server, e.g. http://127.0.0.1:8000.")
@click.option("--api-key", envvar="ACCRUAL_API_KEY", default=None, help="Key for --server (or $ACCRUAL_API_KEY).")
@click.option("--org", "org_name", default=None, help="Apply directly on the database for this organisation.")
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="With --org. Default: $DATABASE_URL.")
@click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
def apply_command(
    file: str, server: str | None, api_key: str | None, org_name: str | None, database_url: str | None, dry_run: bool
) -> None:
    """Make the server's program match bundle FILE: create, update, archive what the file no longer has."""
    from engine.cli.report import problem_lines
    from engine.rules.loader import load_bundle

    if (server is None) == (org_name is None):
        raise click.UsageError("give exactly one of --server URL (with --api-key) and --org NAME")
    loaded = load_bundle(file)
    if not loaded.ok or loaded.bundle is None:
        click.echo("\n".join(problem_lines(loaded, _style)))
        sys.exit(1)
    with contextlib.ExitStack() as stack:
        program_id = _apply(loaded, server, api_key, org_name, database_url, dry_run, stack)
    if program_id is not None:
        click.echo(f"applied: program {loaded.bundle.program.key} is {program_id}")


def _apply(loaded, server, api_key, org_name, database_url, dry_run, stack) -> str | None:
    from engine.rules.plan import ApplyError, apply_plan, plan_bundle

    try:
        if server is not None:
            from engine.rules.plan import HttpTarget

            if not api_key:
                raise click.UsageError("--server needs --api-key (or $ACCRUAL_API_KEY)")
            target = HttpTarget(server, api_key)
        else:
            from api.apply_target import DatabaseTarget

            stack.enter_context(_database(database_url))
            target = DatabaseTarget(org_name or "")
        plan = plan_bundle(loaded.bundle, target)
        click.echo("\n".join(plan.lines()))
        if dry_run or not plan.steps:
            return None
        return apply_plan(plan, target)
    except ApplyError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from exc
