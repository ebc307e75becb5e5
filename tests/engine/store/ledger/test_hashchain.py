from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.store.ledger.hashchain import GENESIS, canonical_json, document_hash, entry_hash


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


def _reference_bytes(document: dict) -> bytes:
    """The canonical form as its definition states it: Python's own compact, sorted JSON."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


_HOSTILE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from(["\u2028", "\u2029", "\x7f", "\ufeff", "/"])
)


@settings(max_examples=300, deadline=None)
@given(
    key=_HOSTILE_TEXT,
    text=_HOSTILE_TEXT,
    number=st.integers(min_value=-(2**63), max_value=2**63 - 1),
)
def test_the_encoder_writes_the_bytes_the_definition_states(key, text, number):
    document = {"description": text, key: [text, number, None, True], "id": "e1", "sequence": number}
    assert canonical_json(document) == _reference_bytes(document)
    assert document_hash(document) == hashlib.sha256(_reference_bytes(document)).hexdigest()


def test_a_value_with_no_canonical_form_is_refused():
    with pytest.raises(TypeError, match="not canonicalisable: float"):
        canonical_json({"amount": 1.5})
