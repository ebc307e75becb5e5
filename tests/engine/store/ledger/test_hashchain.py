from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from engine.store.ledger.hashchain import GENESIS, canonical_json, entry_hash


def test_canonical_json_is_compact_sorted_and_exact():
    moment = datetime(2026, 1, 2, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=1)))
    text = canonical_json({"b": Decimal("-1.50"), "a": moment, "c": "é", "d": None})
    assert text == '{"a":"2026-01-02T03:05:06.000007Z","b":"-1.50","c":"é","d":null}'.encode()


def test_any_change_changes_the_hash():
    entry = {
        "id": "e1",
        "prev_hash": GENESIS,
        "postings": [{"amount": Decimal("1.00")}],
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    base = entry_hash(entry)
    assert len(base) == 64 and base == entry_hash(dict(entry))
    assert entry_hash({**entry, "prev_hash": "1" * 64}) != base
    assert entry_hash({**entry, "postings": [{"amount": Decimal("1.01")}]}) != base
