"""What the command modules share: terminal styling and a database opened for one command."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import click
from peewee import Database

from engine.store.db import close_all, connect


def style(text: str, **styles: Any) -> str:
    """`text` styled for a terminal, plain when the output is not one."""
    return click.style(text, **styles) if sys.stdout.isatty() else text


@contextlib.contextmanager
def database(database_url: str | None) -> Iterator[Database]:
    """The database for one command; its connections are closed when the command ends."""
    db = connect(database_url)
    try:
        yield db
    finally:
        close_all(db)
