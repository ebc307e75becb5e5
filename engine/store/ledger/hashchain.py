"""The per-organisation SHA-256 hash chain over journal entries (D20).

Canonical form of one entry: compact JSON (sorted keys, no spaces, UTF-8) of

    {"id", "organisation_id", "sequence", "program_id", "action_type", "description",
     "event_id", "rule_id", "rule_version", "reference_id", "created_by_api_key_id",
     "created_at" (RFC 3339, microseconds, "Z"), "prev_hash",
     "postings": [{"position", "account_id", "entity_type", "entity_id", "asset_symbol",
                   "bucket", "amount" (plain decimal at the asset's scale)}, ...by position]}

and `entry_hash = sha256(canonical).hexdigest()`. Because `prev_hash` (the previous entry's
`entry_hash`, or 64 zeros for the first) is inside the hashed form, changing, removing or
reordering any entry breaks every later hash.

    >>> entry_hash({"id": "e1", "prev_hash": GENESIS, "postings": []})[:12]
    '8ffd7d86ae40'
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from engine.store.fields import canonical_decimal

GENESIS = "0" * 64


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(entry: dict[str, Any]) -> bytes:
    """The exact bytes that are hashed. Decimals become plain strings, datetimes RFC 3339."""

    def convert(value: Any) -> Any:
        if isinstance(value, Decimal):
            return canonical_decimal(value)
        if isinstance(value, datetime):
            return rfc3339(value)
        raise TypeError(f"not canonicalisable: {type(value).__name__}")

    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=convert).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(entry)).hexdigest()


def entry_document(entry: Any, postings: list[Any]) -> dict[str, Any]:
    """The hashed form of a `JournalEntry` row and its `Posting` rows (stored or about to be)."""
    return {
        "id": entry.id,
        "organisation_id": _id(entry, "organisation"),
        "sequence": entry.sequence,
        "program_id": _id(entry, "program"),
        "action_type": entry.action_type,
        "description": entry.description,
        "event_id": entry.event_id,
        "rule_id": entry.rule_id,
        "rule_version": entry.rule_version,
        "reference_id": entry.reference_id,
        "created_by_api_key_id": entry.created_by_api_key_id,
        "created_at": entry.created_at,
        "prev_hash": entry.prev_hash,
        "postings": [
            {
                "position": posting.position,
                "account_id": _id(posting, "account"),
                "entity_type": posting.entity_type,
                "entity_id": posting.entity_id,
                "asset_symbol": posting.asset_symbol,
                "bucket": posting.bucket,
                "amount": posting.amount,
            }
            for posting in sorted(postings, key=lambda p: p.position)
        ],
    }


def new_entry_document(entry: dict[str, Any], postings: list[dict[str, Any]]) -> dict[str, Any]:
    """The same hashed form as `entry_document`, from the rows about to be inserted (field name
    -> value, foreign keys as ids), without building model instances. Postings are in position
    order already (the ledger numbers them as it builds them)."""
    return {
        "id": entry["id"],
        "organisation_id": entry["organisation"],
        "sequence": entry["sequence"],
        "program_id": entry["program"],
        "action_type": entry["action_type"],
        "description": entry["description"],
        "event_id": entry["event_id"],
        "rule_id": entry["rule_id"],
        "rule_version": entry["rule_version"],
        "reference_id": entry["reference_id"],
        "created_by_api_key_id": entry["created_by_api_key_id"],
        # Written as `canonical_json` would write them, so encoding needs no per-value callback.
        "created_at": rfc3339(entry["created_at"]),
        "prev_hash": entry["prev_hash"],
        "postings": [
            {
                "position": posting["position"],
                "account_id": posting["account"],
                "entity_type": posting["entity_type"],
                "entity_id": posting["entity_id"],
                "asset_symbol": posting["asset_symbol"],
                "bucket": posting["bucket"],
                "amount": canonical_decimal(posting["amount"]),
            }
            for posting in postings
        ],
    }


def _id(row: Any, field: str) -> str | None:
    """A foreign key's id without loading the related row."""
    return getattr(row, f"{field}_id")
