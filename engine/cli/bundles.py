"""`accrual schema`, `check`, `test` and `apply`: bundle files, from the editor to a running program."""

from __future__ import annotations

import contextlib
import json
import sys

import click

from engine.cli.common import database as _database
from engine.cli.common import style as _style


@click.command()
def schema() -> None:
    """Print the JSON Schema of program bundle files (for editor completion and validation)."""
    from engine.model.bundle import bundle_json_schema

    click.echo(json.dumps(bundle_json_schema(), indent=2, sort_keys=True))


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
def check(files: tuple[str, ...], strict: bool) -> None:
    """Validate and analyse bundle FILES; every problem is printed as file:line:col."""
    from engine.cli.report import check_files

    report = check_files(files, strict=strict, style=_style)
    click.echo("\n".join(report.lines))
    sys.exit(report.exit_code)


@click.command(name="test")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-v", "--verbose", is_flag=True, help="List passing test cases too.")
def test_command(files: tuple[str, ...], verbose: bool) -> None:
    """Run the test cases of bundle FILES against the engine; print a diff for each failure."""
    from engine.cli.report import run_test_files

    report = run_test_files(files, verbose=verbose, style=_style)
    click.echo("\n".join(report.lines))
    sys.exit(report.exit_code)


@click.command(name="apply")
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
    from engine.rules.plan import ApplyError, Target, apply_plan, plan_bundle

    target: Target
    try:
        if server is not None:
            from engine.cli.apply import HttpTarget

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
