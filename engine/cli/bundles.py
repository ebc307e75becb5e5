"""`accrual schema`, `check`, `test` and `apply`: bundle files, from the editor to a running program."""

from __future__ import annotations

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
@click.option("--test/--no-test", "run_tests", default=True, show_default=True,
              help="Run the bundle's test cases first and refuse to apply when one fails.")  # fmt: skip
def apply_command(
    file: str,
    server: str | None,
    api_key: str | None,
    org_name: str | None,
    database_url: str | None,
    dry_run: bool,
    run_tests: bool,
) -> None:
    """Make the server's program match bundle FILE, all or nothing: create, update, link, and
    archive what the file no longer has. The plan shows each changed field's old and new value."""
    from engine.cli.report import problem_lines
    from engine.rules.loader import load_bundle

    if (server is None) == (org_name is None):
        raise click.UsageError("give exactly one of --server URL (with --api-key) and --org NAME")
    if server is not None and not api_key:
        raise click.UsageError("--server needs --api-key (or $ACCRUAL_API_KEY)")
    loaded = load_bundle(file)
    if not loaded.ok or loaded.bundle is None:
        click.echo("\n".join(problem_lines(loaded, _style)))
        sys.exit(1)
    if run_tests and not dry_run:
        _refuse_failing_tests(file)
    answer = _apply(loaded.bundle, server, api_key, org_name, database_url, dry_run)
    from engine.cli.apply import plan_from_answer

    click.echo("\n".join(plan_from_answer(answer).lines(_style)))
    if answer["applied"]:
        click.echo(f"applied: program {answer['program_key']} is {answer['program_id']}")


def _refuse_failing_tests(file: str) -> None:
    from engine.cli.report import run_test_files

    report = run_test_files((file,), verbose=False, style=_style)
    if report.exit_code != 0:
        click.echo("\n".join(report.lines))
        raise click.ClickException("the bundle's tests fail; nothing was applied (fix them, or pass --no-test)")


def _apply(bundle, server, api_key, org_name, database_url, dry_run) -> dict:
    import msgspec

    from engine.rules.plan import ApplyError

    try:
        if server is not None:
            from engine.cli.apply import HttpApply

            return HttpApply(server, api_key).apply(bundle, dry_run=dry_run)
        from api.apply_target import DatabaseTarget
        from api.errors import ApiError
        from api.queries.apply import apply_bundle
        from engine.errors import EngineError
        from engine.store.db import database_proxy

        with _database(database_url), database_proxy.connection_context():
            target = DatabaseTarget.for_organisation(org_name or "")
            try:
                return msgspec.to_builtins(apply_bundle(target.principal, bundle, dry_run=dry_run))
            except ApiError as exc:
                raise ApplyError(exc.message, code=exc.code, problems=exc.details.get("problems")) from exc
            except EngineError as exc:
                if isinstance(exc, ApplyError):
                    raise
                raise ApplyError(exc.message, code=str(exc.code)) from exc
    except ApplyError as exc:
        problems = exc.details.get("problems") or []
        lines = [f"  {p.get('field')}: {p.get('message')}" for p in problems if isinstance(p, dict)]
        raise click.ClickException("\n".join([f"{exc.code}: {exc.message}; nothing was applied", *lines])) from exc
