"""Compiled CEL expressions memoised by their text and declared variables (compile once, evaluate
many, across loads).

Loading a bundle compiles every CEL field, and parsing is the costly part of compiling. The
playground reloads the bundle on every edit, and the API recompiles a program for every rule
change, while almost all of the expressions are the same text as before. This bounded LRU hands
back the `dsl.Expression` compiled the first time, so an edit to one rule compiles only the
expressions that changed.

    >>> cache = ExpressionCache(size_max=2)
    >>> first = cache.compile("event.amount > 10.0", frozenset({"event"}))
    >>> cache.compile("event.amount > 10.0", frozenset({"event"})) is first
    True
    >>> cache.stats()
    CacheStats(compilations=1, hits=1, size=1, size_max=2)

Sharing is safe: an `Expression` is immutable once built (its lazily built traced closures are
built under a lock), and each evaluation gets its own environment. Text that does not compile is
remembered too: the error is raised again as a fresh copy with the same code, message and
positions, so no caller sees another's traceback or changes another's error.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from dataclasses import dataclass

from dsl import compile_expression
from dsl.errors import DslError
from dsl.expression import Expression

__all__ = ["EXPRESSIONS_CACHED_MAX", "CacheStats", "ExpressionCache", "compile_cached", "expression_cache"]

# Five bundles of 100 rules (two expressions a rule) with room to spare. An entry is the syntax
# tree and closures of one expression (traced closures too, once built): bounding the count
# bounds the memory.
EXPRESSIONS_CACHED_MAX = 1024

_Key = tuple[str, frozenset[str]]


@dataclass(frozen=True)
class CacheStats:
    """Counters since the cache was made or cleared. `compilations` counts real calls of
    `dsl.compile_expression` (successful or not); `hits` counts answers from the cache."""

    compilations: int
    hits: int
    size: int
    size_max: int


class ExpressionCache:
    """A thread-safe LRU of compiled expressions (or their compile errors), at most `size_max`."""

    def __init__(self, size_max: int = EXPRESSIONS_CACHED_MAX) -> None:
        if size_max < 1:
            raise ValueError(f"size_max must be at least 1, not {size_max}")
        self.size_max = size_max
        self._entries: OrderedDict[_Key, Expression | DslError] = OrderedDict()
        self._lock = threading.Lock()
        self._compilations = self._hits = 0

    def compile(self, text: str, variables: frozenset[str]) -> Expression:
        """The compiled `text`, from the cache when it was compiled before with these variables.
        Raises a `DslError` (a fresh copy of the remembered one) when `text` does not compile."""
        key = (text, variables)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self._hits += 1
        if entry is None:
            # Compiled outside the lock: a slow expression must not stall other loads. Two threads
            # compiling the same new text both succeed; the first one stored is kept for everyone.
            entry = self._compile(text, variables)
            entry = self._store(key, entry)
        if isinstance(entry, DslError):
            raise _fresh(entry)
        return entry

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self._compilations, self._hits, len(self._entries), self.size_max)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._compilations = self._hits = 0

    def _compile(self, text: str, variables: frozenset[str]) -> Expression | DslError:
        with self._lock:
            self._compilations += 1
        try:
            return compile_expression(text, variables)
        except DslError as exc:
            return exc

    def _store(self, key: _Key, entry: Expression | DslError) -> Expression | DslError:
        with self._lock:
            stored = self._entries.setdefault(key, entry)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size_max:
                self._entries.popitem(last=False)
            return stored


def _fresh(error: DslError) -> DslError:
    """A copy of a remembered compile error: same class, code, message and positions, with no
    traceback, cause or context of the first raise."""
    fresh = copy.copy(error)
    fresh.__traceback__ = fresh.__cause__ = fresh.__context__ = None
    return fresh


expression_cache = ExpressionCache()


def compile_cached(text: str, variables: frozenset[str]) -> Expression:
    """`dsl.compile_expression(text, variables)` through the process-wide cache.

    Example: `compile_cached("event.type == 'purchase'", frozenset({"event"})).evaluate(...)`.
    """
    return expression_cache.compile(text, variables)
