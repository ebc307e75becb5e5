"""`accrual tiers preview BUNDLE --program ID`: who the bundle's tier types would move up or down
if their qualification applied now, against the program's members in the database; nothing is
written (A138). `POST /v1/programs/{id}/tiers/preview` answers the same.

    accrual tiers preview rules_examples/airline_miles.yaml --program 0190...
"""

from __future__ import annotations

import sys

import click

from engine.cli.common import database, style


@click.group()
def tiers() -> None:
    """Tier types against the members in the database."""


@tiers.command()
@click.argument("bundle", type=click.Path(dir_okay=False))
@click.option("--program", "program_id", required=True, help="The id of the program whose members are judged.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000), help="Members listed.")
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="Default: $DATABASE_URL or var/accrual.db.")
def preview(bundle: str, program_id: str, limit: int, database_url: str | None) -> None:
    """List the members BUNDLE's tiers would move up or down now, and how many per tier."""
    from engine.cli.report import problem_lines
    from engine.rules.loader import load_bundle
    from engine.store.models import Program
    from engine.store.tier_preview import preview_program

    loaded = load_bundle(bundle)
    if not loaded.ok or loaded.bundle is None:
        click.echo("\n".join(problem_lines(loaded, style)))
        sys.exit(1)
    with database(database_url) as db, db.connection_context():
        if Program.get_or_none(Program.id == program_id) is None:
            raise click.ClickException(f"no program {program_id} in this database")
        report = preview_program(program_id, loaded.bundle.tiers, limit=limit)
    click.echo(f"{report.members} members judged")
    for tier, counts in report.counts.items():
        click.echo(f"{tier}: {counts['UP']} up, {counts['DOWN']} down")
    for member in report.moves:
        move = member.move
        old = move.current_level or "(none)"
        new = move.new_level or "(none)"
        click.echo(f"  {member.external_id}  {move.tier}: {old} -> {new}  {move.direction}")
