"""Reads shared by the events of one commit group.

The worker commits several events of a lane together (`drain_lane`). Some of what each event
reads is the same for all of them and is never written by processing: the program's row, the
symbols of its assets, an asset's row, the organisation's webhook endpoints. Inside
`sharing_reads()` such a read runs once and is remembered until the group ends, so the group
reads each once instead of once per event.

What is remembered is a snapshot taken inside the group's write transaction: on SQLite nothing
else can change it before the commit (one writer); on PostgreSQL a change committed meanwhile
by the API (a program paused, an endpoint added) is seen by the next group, a few milliseconds
later, as if the group's events had been processed that much earlier.

    with write_transaction(), sharing_reads():
        program = remembered(("program", program_id), lambda: load_program(program_id))
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

_memo: ContextVar[dict[Hashable, object] | None] = ContextVar("shared_reads", default=None)


@contextlib.contextmanager
def sharing_reads() -> Iterator[None]:
    """Remember `remembered` reads until the block ends (a commit group of the worker)."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def remembered(key: Hashable, load: Callable[[], T]) -> T:
    """`load()`, run once per `sharing_reads` block for `key`; outside a block, every time.
    `load` must return a value its callers only read."""
    memo = _memo.get()
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return memo[key]  # type: ignore[return-value]
