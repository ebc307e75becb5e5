"""The `accrual` command line. Thin: every command calls the same functions the API and the
worker call, and holds no logic of its own."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="accrual")
def main() -> None:
    """Accrual: a rules engine for loyalty, rewards and incentive programs."""


@main.group()
def bench() -> None:
    """Benchmarks that print their figures beside a reference measured in the same run."""
