"""The "did you mean" of unknown names: the nearest known name by edit distance.

>>> nearest("evnt", ["event", "participant"])
'event'
"""

from __future__ import annotations

from collections.abc import Iterable


def distance(a: str, b: str) -> int:
    """Levenshtein distance, case-insensitive: `distance("Event", "evnt")` is 1."""
    a, b = a.lower(), b.lower()
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def nearest(name: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate within a third of the name's length (at least 2 edits), or None."""
    allowed = max(2, len(name) // 3)
    best: tuple[int, str] | None = None
    for candidate in sorted(set(candidates)):
        d = distance(name, candidate)
        if d <= allowed and (best is None or d < best[0]):
            best = (d, candidate)
    return best[1] if best else None
