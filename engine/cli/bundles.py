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
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--server", default=None, help="Base URL of a running server, e.g. http://127.0.0.1:8000.")
@click.option("--api-key", envvar="ACCRUAL_API_KEY", default=None, help="Key for --server (or $ACCRUAL_API_KEY).")
@click.option("--org", "org_name", default=None, help="Apply directly on the database for this organisation.")
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="With --org. Default: $DATABASE_URL.")
@click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
@click.option("--test/--no-test", "run_tests", default=True, show_default=True,
              help="Run the bundle's test cases first and refuse to apply when one fails.")  # fmt: skip
@click.option("--shadow", is_flag=True,
              help="Apply FILE as the program's shadow: evaluated beside the live rules, it writes only what it "
                   "would have done (`accrual shadow report`). With --clear, remove the shadow.")  # fmt: skip
@click.option("--clear", is_flag=True, help="With --shadow: remove the program's shadow.")
@click.option("--promote-shadow", is_flag=True, help="Make the program's shadow its live rules, in one atomic apply.")
@click.option("--program", "program_id", default=None, help="The program of --shadow and --promote-shadow.")
def apply_command(
    file: str | None,
    server: str | None,
    api_key: str | None,
    org_name: str | None,
    database_url: str | None,
    dry_run: bool,
    run_tests: bool,
    shadow: bool,
    clear: bool,
    promote_shadow: bool,
    program_id: str | None,
) -> None:
    """Make the server's program match bundle FILE, all or nothing: create, update, link, and
    archive what the file no longer has. The plan shows each changed field's old and new value.
    With --shadow, FILE becomes the program's shadow instead, and the live rules are untouched."""
    from engine.cli.apply import plan_from_answer
    from engine.cli.report import problem_lines
    from engine.cli.shadow import shadow_lines, shadow_operation
    from engine.rules.loader import load_bundle

    if (server is None) == (org_name is None):
        raise click.UsageError("give exactly one of --server URL (with --api-key) and --org NAME")
    if server is not None and not api_key:
        raise click.UsageError("--server needs --api-key (or $ACCRUAL_API_KEY)")
    operation = _operation(file, shadow=shadow, clear=clear, promote=promote_shadow, program_id=program_id,
                           dry_run=dry_run)  # fmt: skip
    run = _runner(server, api_key, org_name, database_url)
    if operation in ("clear", "promote"):
        answer = run(lambda http: shadow_operation(operation, None, program_id or "", http=http, org_name=org_name))
        lines = shadow_lines(answer) if operation == "clear" else plan_from_answer(answer).lines(_style)
        click.echo("\n".join(lines))
        if operation == "promote":
            click.echo(f"promoted: the shadow is the live rules of program {answer['program_id']}")
        return
    loaded = load_bundle(file or "")
    if not loaded.ok or loaded.bundle is None:
        click.echo("\n".join(problem_lines(loaded, _style)))
        sys.exit(1)
    if run_tests and not dry_run:
        _refuse_failing_tests(file or "")
    bundle = loaded.bundle
    if operation == "set":
        answer = run(lambda http: shadow_operation("set", bundle, program_id or "", http=http, org_name=org_name))
        click.echo("\n".join(shadow_lines(answer)))
        return
    answer = run(lambda http: _apply(bundle, http, org_name, dry_run))
    click.echo("\n".join(plan_from_answer(answer).lines(_style)))
    if answer["applied"]:
        click.echo(f"applied: program {answer['program_key']} is {answer['program_id']}")


def _operation(file, *, shadow: bool, clear: bool, promote: bool, program_id: str | None, dry_run: bool) -> str:
    """What `accrual apply` was asked: apply, set (a shadow), clear (it) or promote (it)."""
    if clear and not shadow:
        raise click.UsageError("--clear goes with --shadow")
    if (shadow or promote) and not program_id:
        raise click.UsageError("--shadow and --promote-shadow need --program ID")
    if (shadow or promote) and dry_run:
        raise click.UsageError("--dry-run plans an apply; a shadow is the way to try rules on live events")
    if promote:
        if shadow or file:
            raise click.UsageError("--promote-shadow takes no FILE and no --shadow")
        return "promote"
    if program_id and not shadow:
        raise click.UsageError("--program goes with --shadow or --promote-shadow (apply finds the program by key)")
    if clear:
        if file:
            raise click.UsageError("--shadow --clear takes no FILE")
        return "clear"
    if not file:
        raise click.UsageError("missing FILE")
    return "set" if shadow else "apply"


def _refuse_failing_tests(file: str) -> None:
    from engine.cli.report import run_test_files

    report = run_test_files((file,), verbose=False, style=_style)
    if report.exit_code != 0:
        click.echo("\n".join(report.lines))
        raise click.ClickException("the bundle's tests fail; nothing was applied (fix them, or pass --no-test)")


def _apply(bundle, http, org_name, dry_run) -> dict:
    """The plan, applied unless `dry_run`: through `http` (`--server`) or on the database."""
    if http is not None:
        return http.apply(bundle, dry_run=dry_run)
    import msgspec

    from api.apply_target import DatabaseTarget
    from api.queries.apply import apply_bundle

    target = DatabaseTarget.for_organisation(org_name or "")
    return msgspec.to_builtins(apply_bundle(target.principal, bundle, dry_run=dry_run))


def _runner(server, api_key, org_name, database_url):
    """Run `call(http)` against the server (an `HttpApply`) or on the database (`http` None);
    any refusal becomes one message with its code and problems, and "nothing was applied"."""

    def run(call):
        from engine.rules.plan import ApplyError

        try:
            if server is not None:
                from engine.cli.apply import HttpApply

                return call(HttpApply(server, api_key))
            return _on_database(call, database_url)
        except ApplyError as exc:
            problems = exc.details.get("problems") or []
            lines = [f"  {p.get('field')}: {p.get('message')}" for p in problems if isinstance(p, dict)]
            raise click.ClickException("\n".join([f"{exc.code}: {exc.message}; nothing was applied", *lines])) from exc

    return run


def _on_database(call, database_url):
    from api.errors import ApiError
    from engine.errors import EngineError
    from engine.rules.plan import ApplyError
    from engine.store.db import database_proxy

    with _database(database_url), database_proxy.connection_context():
        try:
            return call(None)
        except ApiError as exc:
            raise ApplyError(exc.message, code=exc.code, problems=exc.details.get("problems")) from exc
        except EngineError as exc:
            if isinstance(exc, ApplyError):
                raise
            raise ApplyError(exc.message, code=str(exc.code)) from exc
