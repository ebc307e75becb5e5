"""The `accrual` command line. Thin: every command calls the same functions the API and the
worker call, and holds no logic of its own.

    bundles     schema, check, test, apply
    lsp         the language server for bundle files
    database    db upgrade, verify, keys
    processes   worker, serve, up
    sweep       the clock's due work, now or as of a time
    tiers       tiers preview: who changed tier rules would move
    groups      groups list, groups show: shared wallets with their members and balances
    status      the operator's health on one screen
    backtest    a changed ruleset replayed over a program's recorded history, as a difference
    shadow      shadow report: a program's shadow ruleset, live against shadow
    bench       the benchmarks
"""

from __future__ import annotations

import click

from engine.cli import bundles, database, groups, lsp, processes, tiers
from engine.cli.backtest import backtest
from engine.cli.bench.commands import bench
from engine.cli.shadow import shadow
from engine.cli.status import status
from engine.cli.sweep import sweep
from engine.errors import EngineError


class AccrualGroup(click.Group):
    """The boundary where an engine error a command lets through becomes a one-line message
    with its code and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except EngineError as exc:
            raise click.ClickException(f"{exc.code}: {exc.message}") from exc


@click.group(cls=AccrualGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="accrual")
def main() -> None:
    """Accrual: a rules engine for loyalty, rewards and incentive programs."""


for command in (
    backtest,
    bench,
    bundles.schema,
    bundles.check,
    bundles.test_command,
    bundles.apply_command,
    lsp.lsp,
    database.db,
    database.verify,
    database.keys,
    processes.worker,
    processes.up,
    processes.serve,
    sweep,
    tiers.tiers,
    groups.groups,
    status,
    shadow,
):
    main.add_command(command)
