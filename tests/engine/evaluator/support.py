"""Builders shared by the evaluator's tests: bundles from plain dicts, events, participants."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec

from engine.model.bundle import Bundle
from engine.model.state import Balance, EntityState, EventInput

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

ASSETS = [
    {"symbol": "PTS", "name": "Points", "scale": 0},
    {"symbol": "USD", "name": "Dollars", "scale": 2, "max_transaction_amount": "1000"},
    {"symbol": "GIFT", "name": "Gift", "scale": 2, "issuance_policy": "PREFUNDED"},
    {"symbol": "MILES", "name": "Miles", "scale": 0, "inventory_mode": "LOT"},
    {"symbol": "STARS", "name": "Stars", "scale": 0, "inventory_mode": "LOT", "spending_order": "EXPIRING_FIRST"},
]
TIERS = [
    {
        "key": "status",
        "levels": [
            {"key": "bronze", "rank": 0},
            {
                "key": "silver",
                "rank": 1,
                "qualification": {"criteria": [{"counter": "spend", "operator": ">=", "threshold": 100}]},
            },
            {
                "key": "gold",
                "rank": 2,
                "qualification": {"criteria": [{"counter": "spend", "operator": ">=", "threshold": 1000}]},
            },
        ],
    }
]


def bundle(*rules: dict[str, Any], assets=None, tiers=None) -> Bundle:
    data = {
        "program": {"key": "demo", "name": "Demo"},
        "assets": ASSETS if assets is None else assets,
        "tiers": TIERS if tiers is None else tiers,
        "rules": list(rules),
    }
    return msgspec.convert(msgspec.to_builtins(data), Bundle)


def rule(name: str, condition: str = "true", *actions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "condition": condition, "actions": list(actions) or [{"type": "TAG", "tag": name}], **extra}


def event(data: dict[str, Any] | None = None, **extra: Any) -> EventInput:
    fields = {"event_data": data or {}, "event_timestamp": T0, "received_at": T0, **extra}
    return EventInput(**fields)


def person(external_id: str = "alice", **extra: Any) -> EntityState:
    balances = {
        symbol: Balance(**{bucket: Decimal(str(amount)) for bucket, amount in buckets.items()})
        for symbol, buckets in extra.pop("balances", {}).items()
    }
    return EntityState(id=f"id-{external_id}", external_id=external_id, balances=balances, **extra)
