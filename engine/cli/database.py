"""`accrual db upgrade`, `accrual verify` and `accrual keys ...`: the database and its API keys."""

from __future__ import annotations

import sys

import click

from engine.cli.common import database as _database
from engine.cli.common import style as _style


@click.group()
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


@click.command()
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
        f"{report.postings} postings, {report.accounts} account balances, {report.lots} lots, hash chains"
    )
    for mismatch in report.mismatches:
        click.echo(_style(f"MISMATCH {mismatch.code}: {mismatch.message}", fg="red"), err=True)
    if not report.ok:
        sys.exit(1)
    click.echo(_style("ledger verified: balances equal postings, entries balance, chains intact", fg="green"))


@click.group()
def keys() -> None:
    """API keys: created and revoked here, stored only as hashes (D23)."""


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
