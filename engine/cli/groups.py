"""`accrual groups list` and `accrual groups show ID`: the database's groups, read only, with the
functions the API reads them by (`engine.store.group_views`). A group is changed through the API,
where the request is authorised and logged.

    accrual groups list --include-archived
    accrual groups show 0190... --include-former
"""

from __future__ import annotations

import click

from engine.cli.common import database, style


@click.group()
def groups() -> None:
    """Groups (shared wallets) in the database: list them, show one with members and balances."""


@groups.command("list")
@click.option("--organisation", "organisation_id", default=None, help="Only this organisation's groups.")
@click.option("--include-archived", is_flag=True, help="Archived groups too.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000), help="Groups listed.")
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="Default: $DATABASE_URL or var/accrual.db.")
def list_groups(organisation_id: str | None, include_archived: bool, limit: int, database_url: str | None) -> None:
    """One line per group, newest first: id, status, active members, name."""
    from engine.store.group_views import groups_with_member_counts

    with database(database_url) as db, db.connection_context():
        found = groups_with_member_counts(organisation_id, include_archived=include_archived, limit=limit)
    if not found:
        click.echo("no groups")
    for row, members in found:
        click.echo(f"{row.id}  {row.status:<8}  {members} member{'' if members == 1 else 's'}  {row.name}")


@groups.command()
@click.argument("group_id")
@click.option("--include-former", is_flag=True, help="Members that LEFT too.")
@click.option("--database-url", envvar="DATABASE_URL", default=None, help="Default: $DATABASE_URL or var/accrual.db.")
def show(group_id: str, include_former: bool, database_url: str | None) -> None:
    """GROUP_ID's name and status, members, balances per program and asset (as of now), and state."""
    from engine.store.group_views import group_balances, members_query
    from engine.store.models import GROUP, Group
    from engine.store.owner_state import load_entity_state

    with database(database_url) as db, db.connection_context():
        row = Group.get_or_none(Group.id == group_id)
        if row is None:
            raise click.ClickException(f"no group {group_id} in this database")
        members = list(members_query(row.id, include_former=include_former))
        balances = group_balances(row.id)
        tags, counters, attributes = load_entity_state(GROUP, row.id)
    click.echo(f"{style(row.name, bold=True)}  {row.status}  {row.id}")
    click.echo("members:")
    for member in members:
        left = f"  left {member.left_at:%Y-%m-%d}" if member.left_at else ""
        click.echo(f"  {member.participant.external_id}  {member.role}  {member.status}{left}")
    click.echo("balances:" if balances else "balances: none")
    for program_id, asset, balance in balances:
        buckets = ", ".join(
            f"{name} {getattr(balance, name):.{asset.scale}f}" for name in ("available", "held", "deferred")
        )
        click.echo(f"  {program_id}  {asset.symbol}  {buckets}")
    if tags:
        click.echo("tags: " + ", ".join(tags))
    if counters:
        click.echo("counters: " + ", ".join(f"{key}={counter.value}" for key, counter in sorted(counters.items())))
    if attributes:
        click.echo("attributes: " + ", ".join(f"{key}={value}" for key, value in sorted(attributes.items())))
